import aimos.fiji.AimosLibrary;
import aimos.fiji.AimosSegmenter;
import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.process.FloatProcessor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * MacroOutputCheck's checks of the plane path as plugin_test.ijm ran it: the "stream" option on
 * the stack in memory (labels_stream.tif) against aimos_segment_planes called directly, and the
 * virtual stack on disk (planes/, planes_*) against the in-memory path on its 4 x 4 x 4 block
 * means computed here.
 */
final class PlanePathOutputCheck {
    /** The virtual stack (SampleStack): 327 x 822 x 189 voxels of 0.125 mm, working grid 0.5 mm. */
    static final int[] STACK_DIMS = {327, 822, 189};
    static final int FACTOR = 4;
    static final int[] CHECKED_SLICES = {1, 2, 4, 5, 96, 189};

    private PlanePathOutputCheck() {
    }

    /** labels_stream.tif ("stream working=0.4" on input.tif) = aimos_segment_planes on input.tif's voxels. */
    static void streamedInMemory(Path out, String model) throws Exception {
        ImagePlus input = IJ.openImage(out.resolve("input.tif").toString());
        ImagePlus labels = IJ.openImage(out.resolve("labels_stream.tif").toString());
        Checks.check(input != null && labels != null, "input.tif and labels_stream.tif exist");
        int nx = input.getWidth();
        int ny = input.getHeight();
        int nz = input.getStackSize();
        int[] voxels = new int[nx * ny * nz];
        for (int z = 0; z < nz; z++) {
            short[] slice = (short[]) input.getStack().getPixels(z + 1);
            for (int i = 0; i < nx * ny; i++) {
                voxels[z * nx * ny + i] = slice[i] & 0xFFFF;
            }
        }
        DirectAnswer direct = DirectAnswer.planes(model, DirectAnswer.uint16Memory(voxels), AimosLibrary.AIMOS_DTYPE_UINT16, 2,
                                                  nx, ny, nz, new double[] {0.1, 0.2, 0.3}, 0.4, 2);
        Checks.check(labels.getWidth() == direct.dims[0] && labels.getHeight() == direct.dims[1]
                     && labels.getStackSize() == direct.dims[2] && direct.dims[0] == 6 && direct.dims[1] == 9,
                     "streamed labels on the 6x9x6 working grid: " + labels.getWidth() + "x" + labels.getHeight() + "x" + labels.getStackSize());
        Checks.check(Arrays.equals(AimosSegmenterTest.flatten(labels), direct.labels), "streamed labels equal aimos_segment_planes'");
        Calibration calibration = labels.getCalibration();
        Checks.check(Math.abs(calibration.pixelWidth - 0.4) < 1e-9 && Math.abs(calibration.pixelHeight - 0.4) < 1e-9
                     && Math.abs(calibration.pixelDepth - 0.3) < 1e-9 && calibration.getUnit().equals("mm"),
                     "streamed labels calibrated 0.4 x 0.4 x 0.3 mm");
    }

    static void virtualStack(Path out, String ctModel) throws Exception {
        List<String> info = Files.readAllLines(out.resolve("planes_info.txt"), StandardCharsets.UTF_8);
        String dims = STACK_DIMS[0] + " " + STACK_DIMS[1] + " " + STACK_DIMS[2];
        Checks.check(info.get(0).equals("1 " + dims), "the input was a virtual " + dims + " stack: " + info.get(0));

        ImagePlus labels = IJ.openImage(out.resolve("planes_labels.tif").toString());
        int[] working = new int[3];
        for (int axis = 0; axis < 3; axis++) {
            working[axis] = (STACK_DIMS[axis] + FACTOR - 1) / FACTOR;
        }
        Checks.check(labels.getWidth() == working[0] && labels.getHeight() == working[1] && labels.getStackSize() == working[2]
                     && labels.getBitDepth() == 8, "working labels 8-bit, ceil(n / 4) = 82x206x48: "
                     + labels.getWidth() + "x" + labels.getHeight() + "x" + labels.getStackSize());
        Calibration calibration = labels.getCalibration();
        Checks.check(calibration.pixelWidth == 0.5 && calibration.pixelHeight == 0.5 && calibration.pixelDepth == 0.5
                     && calibration.getUnit().equals("mm"), "working labels calibrated 0.5 mm: " + calibration.pixelWidth + " "
                     + calibration.getUnit());
        byte[] flat = AimosSegmenterTest.flatten(labels);
        int classesFound = 0;
        for (int c = 1; c < 256; c++) {
            classesFound += AimosSegmenterTest.count(flat, c) > 0 ? 1 : 0;
        }
        Checks.check(classesFound >= 3, "organs found, not only background: " + classesFound + " classes");

        Checks.check(info.get(1).equals("1 " + dims), "full-resolution labels are a virtual " + dims + " stack: " + info.get(1));
        Checks.check(info.get(2).equals("0.125 0.125 0.125 mm"), "full-resolution labels keep the stack's 0.125 mm: " + info.get(2));
        for (int slice : PlanePathOutputCheck.CHECKED_SLICES) {
            ImagePlus plane = IJ.openImage(out.resolve("planes_full_" + slice + ".tif").toString());
            Checks.check(plane != null && plane.getWidth() == STACK_DIMS[0] && plane.getHeight() == STACK_DIMS[1],
                         "full-resolution slice " + slice + " saved at the stack's size");
            byte[] pixels = (byte[]) plane.getProcessor().getPixels();
            byte[] source = (byte[]) labels.getStack().getPixels((slice - 1) / FACTOR + 1);
            boolean same = true;
            for (int y = 0; y < STACK_DIMS[1]; y++) {
                for (int x = 0; x < STACK_DIMS[0]; x++) {
                    same &= pixels[x + STACK_DIMS[0] * y] == source[x / FACTOR + working[0] * (y / FACTOR)];
                }
            }
            Checks.check(same, "full-resolution slice " + slice + " = working plane " + ((slice - 1) / FACTOR) + " upsampled 4x");
        }
        Checks.check(info.get(3).equals("0.5 true"), "aimos.working and aimos.fullres remembered: " + info.get(3));

        byte[] inMemory = AimosSegmenterTest.flatten(segmentBlockMeans(out.resolve("planes"), working, ctModel));
        Checks.check(Arrays.equals(flat, inMemory), "working labels = the in-memory path on the 4x4x4 block means");

        List<String> lines = Files.readAllLines(out.resolve("planes_volumes.csv"), StandardCharsets.UTF_8);
        List<String> header = Arrays.asList(lines.get(0).split(","));
        boolean counted = lines.size() == 12;   // the CT model's 11 classes
        for (int c = 0; c + 1 < lines.size(); c++) {
            List<String> row = Arrays.asList(lines.get(c + 1).split(","));
            long voxels = Long.parseLong(row.get(header.indexOf("Voxels")));
            double mm3 = Double.parseDouble(row.get(header.indexOf("Volume_mm3")));
            counted &= voxels == AimosSegmenterTest.count(flat, c) && Math.abs(mm3 - voxels * 0.125) < 1e-6;
        }
        Checks.check(counted, "one Results row per class: working voxels, mm3 = voxels x 0.5^3");

        String stdout = new String(Files.readAllBytes(out.resolve("imagej-stdout.txt")), StandardCharsets.UTF_8);
        Checks.check(stdout.contains("planes: 189 planes streamed; segmented on the working grid 82x206x48 of 0.5000 x 0.5000 x 0.5000 mm"
                                     + " (blocks of 4x4x4 voxels)"), "the Log names the working grid");
    }

    /**
     * The planes' block means (read one plane at a time; integer sums exact, / count in double,
     * then float, as the library does; the last blocks partial) as a 32-bit stack of 0.5 mm,
     * segmented in memory with the plugin's defaults (orientation auto, the model's crop).
     */
    static ImagePlus segmentBlockMeans(Path planes, int[] working, String ctModel) throws Exception {
        int nx = STACK_DIMS[0];
        int ny = STACK_DIMS[1];
        ImageStack means = new ImageStack(working[0], working[1]);
        for (int wz = 0; wz < working[2]; wz++) {
            long[] sums = new long[working[0] * working[1]];
            int planesInBlock = Math.min(FACTOR, STACK_DIMS[2] - wz * FACTOR);
            for (int z = wz * FACTOR; z < wz * FACTOR + planesInBlock; z++) {
                ImagePlus plane = IJ.openImage(planes.resolve(String.format("plane_%04d.tif", z)).toString());
                short[] pixels = (short[]) plane.getProcessor().getPixels();
                for (int y = 0; y < ny; y++) {
                    for (int x = 0; x < nx; x++) {
                        sums[x / FACTOR + working[0] * (y / FACTOR)] += pixels[x + nx * y] & 0xFFFF;
                    }
                }
            }
            FloatProcessor mean = new FloatProcessor(working[0], working[1]);
            for (int wy = 0; wy < working[1]; wy++) {
                for (int wx = 0; wx < working[0]; wx++) {
                    int count = Math.min(FACTOR, nx - wx * FACTOR) * Math.min(FACTOR, ny - wy * FACTOR) * planesInBlock;
                    mean.setf(wx, wy, (float) ((double) sums[wx + working[0] * wy] / count));
                }
            }
            means.addSlice(mean);
        }
        ImagePlus image = AimosSegmenterTest.calibrated(new ImagePlus("means", means), new double[] {0.5, 0.5, 0.5}, "mm");
        try (AimosSegmenter segmenter = new AimosSegmenter(ctModel)) {
            return segmenter.segment(image, new AimosSegmenter.Settings(), null).labels;
        }
    }
}
