import ij.IJ;
import ij.ImagePlus;
import ij.process.ShortProcessor;
import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.GZIPInputStream;

/**
 * The virtual-stack fixture of plugin_test.ijm: the bundled sample CT (data/sample, 0.5 mm)
 * made four times finer, as a light-sheet stack is finer than the working grid, and written by
 * ImageJ as a folder of 16-bit TIFF planes for File.openSequence(..., " virtual").
 *
 * Stack voxel (x, y, z) is CT voxel (x / 4, y / 4, z / 4) + 32768 (ImageJ's unsigned 16-bit
 * for signed data) plus a ripple of -4 ... 4 that differs inside every block, so that block
 * means are not just the CT values; each axis is cut short of a multiple of 4 (327 x 822 x 189
 * of 328 x 824 x 192), so the last blocks are partial. At 0.125 mm and a working voxel size of
 * 0.5 mm the working grid is the CT's 82 x 206 x 48.
 */
public final class SampleStack {
    static final int FACTOR = 4;
    static final int[] CUT = {1, 2, 3};

    private SampleStack() {
    }

    /** Writes plane_0000.tif ... into folder (which exists); returns "" (call() needs a String). */
    public static String writePlanes(String niftiPath, String folder) throws IOException {
        Nifti ct = Nifti.readInt16(niftiPath);
        int width = ct.dims[0] * FACTOR - CUT[0];
        int height = ct.dims[1] * FACTOR - CUT[1];
        int depth = ct.dims[2] * FACTOR - CUT[2];
        for (int z = 0; z < depth; z++) {
            ShortProcessor plane = new ShortProcessor(width, height);
            short[] pixels = (short[]) plane.getPixels();
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int value = ct.voxel(x / FACTOR, y / FACTOR, z / FACTOR) + 32768 + ripple(x, y, z);
                    pixels[x + width * y] = (short) Math.max(0, Math.min(65535, value));
                }
            }
            if (!IJ.saveAsTiff(new ImagePlus("plane", plane), String.format("%s/plane_%04d.tif", folder, z))) {
                throw new IOException("could not write plane " + z + " into " + folder);
            }
        }
        return "";
    }

    static int ripple(int x, int y, int z) {
        return (x * 7 + y * 3 + z * 5) % 9 - 4;
    }

    /** A NIfTI-1 int16 scan (little-endian, .nii or .nii.gz), enough of the format for the fixture. */
    static final class Nifti {
        final int[] dims;
        final short[] voxels;

        private Nifti(int[] dims, short[] voxels) {
            this.dims = dims;
            this.voxels = voxels;
        }

        int voxel(int x, int y, int z) {
            return voxels[x + dims[0] * (y + dims[1] * z)];
        }

        static Nifti readInt16(String path) throws IOException {
            try (InputStream file = new FileInputStream(path);
                 DataInputStream in = new DataInputStream(path.endsWith(".gz") ? new GZIPInputStream(file) : file)) {
                byte[] headerBytes = new byte[348];
                in.readFully(headerBytes);
                ByteBuffer header = ByteBuffer.wrap(headerBytes).order(ByteOrder.LITTLE_ENDIAN);
                short datatype = header.getShort(70);
                if (header.getInt(0) != 348 || datatype != 4) {
                    throw new IOException(path + ": not a little-endian NIfTI-1 int16 scan (datatype " + datatype + ")");
                }
                int[] dims = {header.getShort(42), header.getShort(44), header.getShort(46)};
                int offset = (int) header.getFloat(108);
                in.readFully(new byte[offset - 348]);
                byte[] data = new byte[2 * dims[0] * dims[1] * dims[2]];
                in.readFully(data);
                short[] voxels = new short[data.length / 2];
                ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(voxels);
                return new Nifti(dims, voxels);
            }
        }
    }
}
