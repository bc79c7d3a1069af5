package aimos.fiji;

import ij.ImageStack;
import ij.VirtualStack;
import ij.process.ByteProcessor;

/**
 * Working-grid labels seen at the stack's full resolution, one plane at a time: plane z is the
 * working plane z / fz with every label repeated fx times along x and fy times along y
 * (nearest upsampling; working voxel j covers stack voxels j*f ... min((j+1)*f, n) - 1, as
 * aimos_result_grid_factors says). Only the working labels are held, never the full volume, so
 * a label map for a stack larger than memory can be browsed, measured and saved plane by plane.
 */
public final class UpsampledLabelStack extends VirtualStack {
    private final ImageStack working;
    private final int[] factors;
    private final int depth;

    /**
     * @param working the working-grid label planes (8-bit), read, not copied
     * @param width   the stack's width, height and depth: ceil(n / factor) must be the working dims
     * @param factors stack voxels per working voxel along x, y, z (each at least 1)
     */
    public UpsampledLabelStack(ImageStack working, int width, int height, int depth, int[] factors) {
        super(width, height, depth);   // 8-bit
        int[] workingDims = {working.getWidth(), working.getHeight(), working.getSize()};
        int[] fullDims = {width, height, depth};
        for (int axis = 0; axis < 3; axis++) {
            if (factors[axis] < 1 || (fullDims[axis] + factors[axis] - 1) / factors[axis] != workingDims[axis]) {
                throw new IllegalArgumentException("axis " + axis + ": " + fullDims[axis] + " voxels in blocks of "
                    + factors[axis] + " do not make the working grid's " + workingDims[axis]);
            }
        }
        this.working = working;
        this.factors = factors.clone();
        this.depth = depth;
        setColorModel(LabelLut.create());
    }

    /** The stack voxels per working voxel along x, y, z. */
    public int[] factors() {
        return factors.clone();
    }

    @Override
    public int getSize() {
        return depth;
    }

    @Override
    public String getSliceLabel(int n) {
        return null;
    }

    /** Plane n (1-based), made now from working plane (n - 1) / fz. */
    @Override
    public ByteProcessor getProcessor(int n) {
        if (n < 1 || n > depth) {
            throw new IllegalArgumentException("slice " + n + " out of range 1-" + depth);
        }
        int width = getWidth();
        int height = getHeight();
        int workingWidth = working.getWidth();
        byte[] source = (byte[]) working.getPixels((n - 1) / factors[2] + 1);
        byte[] plane = new byte[width * height];
        // The column map is the same for every row: one division per column, not per voxel.
        int[] column = new int[width];
        for (int x = 0; x < width; x++) {
            column[x] = x / factors[0];
        }
        for (int y = 0; y < height; y++) {
            int row = (y / factors[1]) * workingWidth;
            int out = y * width;
            for (int x = 0; x < width; x++) {
                plane[out + x] = source[row + column[x]];
            }
        }
        return new ByteProcessor(width, height, plane, getColorModel());
    }
}
