import ij.IJ;
import ij.Macro;

/**
 * Test helper for plugin_test.ijm: runs the plugin with macro options through call(), outside
 * the macro interpreter, with error messages redirected to the log (stdout in batch mode). Inside
 * a macro's run(), IJ.error would open the macro error dialog instead, modal, which nobody can
 * click on Xvfb, and would end the test macro.
 */
public final class PluginErrorProbe {
    private PluginErrorProbe() {
    }

    /** Runs "AIMOS Organ Segmentation" with the options; returns "" (call() needs a String). */
    public static String run(String options) {
        Thread thread = Thread.currentThread();
        Macro.setOptions(thread, options);
        IJ.redirectErrorMessages();
        try {
            // Loaded by ImageJ's plugin class loader, which sees the plugins folder.
            IJ.runPlugIn("aimos.fiji.AIMOS_Segment", "");
        } finally {
            Macro.setOptions(thread, null);
            IJ.redirectErrorMessages(false);
        }
        return "";
    }
}
