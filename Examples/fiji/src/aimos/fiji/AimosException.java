package aimos.fiji;

/** A failed libaimos call: the aimos_status and the library's aimos_last_error() message. */
public class AimosException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String statusName;

    public AimosException(int status, String statusName, String message) {
        super(statusName + ": " + message);
        this.status = status;
        this.statusName = statusName;
    }

    /** The aimos_status value (AimosLibrary.AIMOS_ERROR_*). */
    public int status() {
        return status;
    }

    /** The status's name, e.g. "AIMOS_ERROR_IO". */
    public String statusName() {
        return statusName;
    }
}
