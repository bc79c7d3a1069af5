package aimos.fiji;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import ij.ImageStack;
import ij.process.ImageProcessor;

/**
 * The plane callback of aimos_segment_planes for an ImageJ stack: plane z is the stack's slice
 * z + 1, fetched with getProcessor (a virtual stack reads it from disk then) and copied into one
 * native buffer that every call reuses, so memory holds one plane whatever the stack's size.
 *
 * Nothing may be thrown through the C frames: a failure (a plane of another size or type, an
 * exception, a cancel) is kept here and the callback returns null, which makes the library stop
 * with AIMOS_ERROR_IO; the caller then asks failure() and cancelled() what happened.
 */
final class PlaneFeeder implements AimosLibrary.aimos_plane_fn {
    private final ImageStack stack;
    private final int width;
    private final int height;
    private final int bitDepth;
    private final AimosSegmenter.ProgressListener listener;
    private Memory plane;
    private Throwable failure;
    private boolean cancelled;

    /** The stack's planes as bitDepth (8, 16 or 32) voxels; listener (may be null) hears (z + 1, planes). */
    PlaneFeeder(ImageStack stack, int bitDepth, AimosSegmenter.ProgressListener listener) {
        this.stack = stack;
        this.width = stack.getWidth();
        this.height = stack.getHeight();
        this.bitDepth = bitDepth;
        this.listener = listener;
        this.plane = new Memory((long) width * height * (bitDepth / 8));
    }

    @Override
    public Pointer invoke(Pointer userData, long z) {
        try {
            ImageProcessor processor = stack.getProcessor((int) z + 1);
            if (processor == null || processor.getWidth() != width || processor.getHeight() != height
                || processor.getBitDepth() != bitDepth) {
                failure = new IllegalArgumentException("slice " + (z + 1) + " of the stack "
                    + (processor == null ? "could not be read" : "is " + processor.getWidth() + "x" + processor.getHeight()
                       + " " + processor.getBitDepth() + "-bit, unlike the stack (" + width + "x" + height + " "
                       + bitDepth + "-bit)"));
                return null;
            }
            Object pixels = processor.getPixels();
            int voxels = width * height;
            if (pixels instanceof byte[]) {
                plane.write(0, (byte[]) pixels, 0, voxels);
            } else if (pixels instanceof short[]) {
                plane.write(0, (short[]) pixels, 0, voxels);
            } else {
                plane.write(0, (float[]) pixels, 0, voxels);
            }
            if (listener != null && listener.progress(z + 1, stack.getSize())) {
                cancelled = true;
                return null;
            }
            return plane;
        } catch (Throwable error) {
            failure = error;
            return null;
        }
    }

    /** What made the callback return null, other than a cancel; null if nothing did. */
    Throwable failure() {
        return failure;
    }

    /** Whether the listener asked to stop while the planes were read. */
    boolean cancelled() {
        return cancelled;
    }

    /** Frees the plane buffer now rather than at garbage collection; call it after the library call. */
    void release() {
        if (plane != null) {
            plane.close();
            plane = null;
        }
    }
}
