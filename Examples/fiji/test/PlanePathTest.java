import aimos.fiji.AimosException;
import aimos.fiji.AimosLibrary;
import aimos.fiji.AimosSegmenter;
import aimos.fiji.LabelLut;
import aimos.fiji.UpsampledLabelStack;
import com.sun.jna.Memory;
import ij.ImagePlus;
import ij.ImageStack;
import ij.VirtualStack;
import ij.measure.Calibration;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tests of AimosSegmenter's plane path (aimos_segment_planes through PlaneFeeder) on the
 * 23x17x6 pattern of AimosSegmenterTest: against the C API called directly, against the
 * in-memory path on block averages computed here, the full-resolution labels, virtual stacks,
 * progress, cancel and errors.
 * Usage: java -Djna.library.path=DIR -cp ... PlanePathTest model.safetensors
 * Prints "N passed, M failed"; exits 1 on any failure.
 */
public final class PlanePathTest {
    static final int NX = AimosSegmenterTest.NX;
    static final int NY = AimosSegmenterTest.NY;
    static final int NZ = AimosSegmenterTest.NZ;
    static final double[] SPACING_MM = AimosSegmenterTest.SPACING_MM;   // 0.1, 0.2, 0.3
    /** Blocks of 4 x 2 x 1 voxels (round(0.4 / spacing)): partial blocks at the end of x and y. */
    static final double WORKING_MM = 0.4;
    static final int[] FACTORS = {4, 2, 1};
    static final int[] WORKING_DIMS = {6, 9, 6};   // ceil(23 / 4), ceil(17 / 2), 6

    private static String model;

    public static void main(String[] args) {
        model = args[0];
        Checks.test("plane path equals aimos_segment_planes called directly", PlanePathTest::equalsTheCApi);
        Checks.test("plane path equals the in-memory path on block averages", PlanePathTest::equalsBlockAverages);
        Checks.test("8-bit and 32-bit planes", PlanePathTest::eightAndThirtyTwoBitPlanes);
        Checks.test("full-resolution labels are upsampled working labels", PlanePathTest::fullResolutionLabels);
        Checks.test("a virtual stack is streamed, each plane fetched once, in order", PlanePathTest::virtualStackIsStreamed);
        Checks.test("progress, cancel and errors while reading planes", PlanePathTest::progressCancelAndErrors);
        Checks.test("aimos_plane_source layout matches the library", PlanePathTest::structLayout);
        Checks.finish();
    }

    static AimosSegmenter.Settings streamed(double workingMm, boolean fullResolution) {
        AimosSegmenter.Settings settings = AimosSegmenter.Settings.published(2, 1);
        settings.streamPlanes = true;
        settings.workingVoxelSizeMm = workingMm;
        settings.fullResolutionLabels = fullResolution;
        return settings;
    }

    static AimosSegmenter.Result segment(ImagePlus image, AimosSegmenter.Settings settings) throws AimosException {
        try (AimosSegmenter segmenter = new AimosSegmenter(model)) {
            return segmenter.segment(image, settings, null);
        }
    }

    /** The published in-memory path (aimos_segment), along axis 2. */
    static AimosSegmenter.Result inMemory(ImagePlus image) throws AimosException {
        return segment(image, AimosSegmenter.Settings.published(2, 1));
    }

    static ImagePlus pattern16() {
        return AimosSegmenterTest.sixteenBit(AimosSegmenterTest.patternVoxels(), SPACING_MM, "mm");
    }

    static void equalsTheCApi() throws Exception {
        int[] voxels = AimosSegmenterTest.patternVoxels();
        AimosSegmenter.Result result = segment(pattern16(), streamed(WORKING_MM, false));
        DirectAnswer direct = DirectAnswer.planes(model, DirectAnswer.uint16Memory(voxels), AimosLibrary.AIMOS_DTYPE_UINT16, 2,
                                                  NX, NY, NZ, SPACING_MM, WORKING_MM, 2);
        ImagePlus labels = result.labels;
        Checks.check(Arrays.equals(direct.dims, new long[] {6, 9, 6}) && Arrays.equals(direct.factors, new long[] {4, 2, 1}),
                     "the library's grid is 6x9x6 in blocks of 4x2x1: " + Arrays.toString(direct.dims) + Arrays.toString(direct.factors));
        Checks.check(labels.getWidth() == 6 && labels.getHeight() == 9 && labels.getStackSize() == 6 && labels.getBitDepth() == 8,
                     "labels on the working grid, 6x9x6 8-bit: " + labels.getWidth() + "x" + labels.getHeight() + "x" + labels.getStackSize());
        Checks.check(Arrays.equals(result.gridFactors, FACTORS), "gridFactors 4, 2, 1: " + Arrays.toString(result.gridFactors));
        Calibration calibration = labels.getCalibration();
        Checks.check(near(calibration.pixelWidth, 0.4) && near(calibration.pixelHeight, 0.4) && near(calibration.pixelDepth, 0.3)
                     && calibration.getUnit().equals("mm"), "calibration 0.4 x 0.4 x 0.3 mm (aimos_result_spacing): "
                     + calibration.pixelWidth + " " + calibration.pixelHeight + " " + calibration.pixelDepth + " " + calibration.getUnit());
        Checks.check(near(calibration.pixelWidth, direct.spacingMm[0]) && near(calibration.pixelHeight, direct.spacingMm[1]),
                     "calibration = the library's spacing");
        byte[] flat = AimosSegmenterTest.flatten(labels);
        Checks.check(Arrays.equals(flat, direct.labels), "labels equal the C API's");
        Checks.check(AimosSegmenterTest.count(flat, 0) < flat.length
                     && AimosSegmenterTest.count(flat, 1) + AimosSegmenterTest.count(flat, 2) < flat.length,
                     "more than one class present (else the comparison is weak)");
        Checks.check(labels.getProcessor().getLut().getRGB(1) == LabelLut.create().getRGB(1), "the label LUT");
        Checks.check(result.fullResolutionLabels == null, "no full-resolution labels unless asked");
        for (int c = 0; c < 3; c++) {
            double mm3 = result.volumes.getValue("Volume_mm3", c);
            Checks.check(result.volumes.getValue("Voxels", c) == AimosSegmenterTest.count(flat, c), "class " + c + ": working voxels counted");
            Checks.check(Math.abs(mm3 - direct.volumesMm3[c]) < 1e-9, "class " + c + " mm3 " + mm3 + " = C API " + direct.volumesMm3[c]);
            Checks.check(Math.abs(mm3 - AimosSegmenterTest.count(flat, c) * 0.048) < 1e-9, "class " + c + " mm3 = working voxels x 0.048");
        }
    }

    /**
     * The block means computed here (whole-voxel blocks, the last one partial; sums of the
     * integer voxels exact, then / count in double, then float, as the library does), segmented
     * in memory as a 32-bit stack: the same labels as the plane path.
     */
    static void equalsBlockAverages() throws Exception {
        int[] voxels = AimosSegmenterTest.patternVoxels();
        ImageStack means = new ImageStack(WORKING_DIMS[0], WORKING_DIMS[1]);
        for (int wz = 0; wz < WORKING_DIMS[2]; wz++) {
            FloatProcessor plane = new FloatProcessor(WORKING_DIMS[0], WORKING_DIMS[1]);
            for (int wy = 0; wy < WORKING_DIMS[1]; wy++) {
                for (int wx = 0; wx < WORKING_DIMS[0]; wx++) {
                    long sum = 0;
                    int count = 0;
                    for (int z = wz * FACTORS[2]; z < Math.min((wz + 1) * FACTORS[2], NZ); z++) {
                        for (int y = wy * FACTORS[1]; y < Math.min((wy + 1) * FACTORS[1], NY); y++) {
                            for (int x = wx * FACTORS[0]; x < Math.min((wx + 1) * FACTORS[0], NX); x++) {
                                sum += voxels[x + NX * (y + NY * z)];
                                count++;
                            }
                        }
                    }
                    plane.setf(wx, wy, (float) ((double) sum / count));
                }
            }
            means.addSlice(plane);
        }
        ImagePlus averaged = AimosSegmenterTest.calibrated(new ImagePlus("means", means), new double[] {0.4, 0.4, 0.3}, "mm");
        byte[] inMemory = AimosSegmenterTest.flatten(segment(averaged, AimosSegmenter.Settings.published(2, 1)).labels);
        byte[] streamed = AimosSegmenterTest.flatten(segment(pattern16(), streamed(WORKING_MM, false)).labels);
        Checks.check(Arrays.equals(inMemory, streamed), "plane-path labels = in-memory labels of the block means");
        byte[] unaveraged = AimosSegmenterTest.flatten(inMemory(pattern16()).labels);
        Checks.check(inMemory.length != unaveraged.length, "the working grid is coarser than the stack (else vacuous)");
    }

    static void eightAndThirtyTwoBitPlanes() throws Exception {
        int[] voxels = AimosSegmenterTest.patternVoxels();
        ImageStack byteStack = new ImageStack(NX, NY);
        ImageStack floatStack = new ImageStack(NX, NY);
        Memory bytes = new Memory(voxels.length);
        Memory floats = new Memory(4L * voxels.length);
        for (int z = 0; z < NZ; z++) {
            ByteProcessor byteSlice = new ByteProcessor(NX, NY);
            FloatProcessor floatSlice = new FloatProcessor(NX, NY);
            for (int i = 0; i < NX * NY; i++) {
                int v = voxels[z * NX * NY + i];
                byteSlice.set(i, v % 256);
                floatSlice.setf(i, v * 0.25f - 100.5f);
                bytes.setByte(z * NX * NY + i, (byte) (v % 256));
                floats.setFloat(4L * (z * NX * NY + i), v * 0.25f - 100.5f);
            }
            byteStack.addSlice(byteSlice);
            floatStack.addSlice(floatSlice);
        }
        byte[] fromBytes = AimosSegmenterTest.flatten(segment(AimosSegmenterTest.calibrated(new ImagePlus("b", byteStack), SPACING_MM, "mm"),
                                                              streamed(WORKING_MM, false)).labels);
        byte[] fromFloats = AimosSegmenterTest.flatten(segment(AimosSegmenterTest.calibrated(new ImagePlus("f", floatStack), SPACING_MM, "mm"),
                                                               streamed(WORKING_MM, false)).labels);
        Checks.check(Arrays.equals(fromBytes, DirectAnswer.planes(model, bytes, AimosLibrary.AIMOS_DTYPE_UINT8, 1, NX, NY, NZ,
                                                                  SPACING_MM, WORKING_MM, 2).labels), "8-bit planes as UINT8");
        Checks.check(Arrays.equals(fromFloats, DirectAnswer.planes(model, floats, AimosLibrary.AIMOS_DTYPE_FLOAT32, 4, NX, NY, NZ,
                                                                   SPACING_MM, WORKING_MM, 2).labels), "32-bit planes as FLOAT32");
    }

    static void fullResolutionLabels() throws Exception {
        ImagePlus input = pattern16();
        input.getCalibration().xOrigin = 6;   // pixels; the working grid's origin is 6 / 4
        AimosSegmenter.Result result = segment(input, streamed(WORKING_MM, true));
        ImagePlus full = result.fullResolutionLabels;
        Checks.check(full != null && full.getStack().isVirtual() && full.getStack() instanceof UpsampledLabelStack,
                     "asked for, the full-resolution labels are a virtual UpsampledLabelStack");
        Checks.check(full.getWidth() == NX && full.getHeight() == NY && full.getStackSize() == NZ && full.getBitDepth() == 8,
                     "full resolution: the stack's 23x17x6, 8-bit");
        Calibration calibration = full.getCalibration();
        Checks.check(calibration.pixelWidth == 0.1 && calibration.pixelHeight == 0.2 && calibration.pixelDepth == 0.3
                     && calibration.getUnit().equals("mm"), "full resolution keeps the stack's calibration");
        Checks.check(result.labels.getCalibration().xOrigin == 1.5, "working origin = stack origin / factor: "
                     + result.labels.getCalibration().xOrigin);
        Checks.check(full.getProcessor().getLut().getRGB(2) == LabelLut.create().getRGB(2), "the label LUT at full resolution");
        ImageStack working = result.labels.getStack();
        boolean same = true;
        for (int z = 0; z < NZ; z++) {
            byte[] plane = (byte[]) full.getStack().getPixels(z + 1);
            byte[] source = (byte[]) working.getPixels(z / FACTORS[2] + 1);
            for (int y = 0; y < NY; y++) {
                for (int x = 0; x < NX; x++) {
                    same &= plane[x + NX * y] == source[x / FACTORS[0] + WORKING_DIMS[0] * (y / FACTORS[1])];
                }
            }
        }
        Checks.check(same, "full plane z = working plane z / fz, voxel (x, y) = working (x / fx, y / fy)");
        try {
            new UpsampledLabelStack(working, NX + 3, NY, NZ, FACTORS);
            Checks.check(false, "a full size that does not make the working grid is refused");
        } catch (IllegalArgumentException error) {
            Checks.check(error.getMessage().contains("26"), "the refusal names the size: " + error.getMessage());
        }
    }

    /** An in-memory virtual stack of the pattern that records which planes were fetched. */
    static class RecordingStack extends VirtualStack {
        final List<Integer> fetched = new ArrayList<>();
        private final ImageStack planes;

        RecordingStack(ImageStack planes) {
            super(planes.getWidth(), planes.getHeight(), planes.getSize(), "16-bit");
            this.planes = planes;
        }

        @Override
        public ImageProcessor getProcessor(int n) {
            fetched.add(n);
            return planes.getProcessor(n).duplicate();
        }

        @Override
        public int getSize() {
            return planes.getSize();
        }
    }

    static void virtualStackIsStreamed() throws Exception {
        RecordingStack stack = new RecordingStack(pattern16().getStack());
        ImagePlus image = AimosSegmenterTest.calibrated(new ImagePlus("virtual", stack), SPACING_MM, "mm");
        stack.fetched.clear();
        // Not streamPlanes, the model's working size (the fixture records none: 0.1 mm, so blocks of 1): the
        // stack's own grid, and the same labels as the in-memory path.
        AimosSegmenter.Result result = segment(image, AimosSegmenter.Settings.published(2, 1));
        Checks.check(stack.fetched.equals(Arrays.asList(1, 2, 3, 4, 5, 6)), "slices 1..6 fetched once each, in order: " + stack.fetched);
        Checks.check(Arrays.equals(result.gridFactors, new int[] {1, 1, 1}), "the model's 0.1 mm: blocks of 1 voxel");
        Checks.check(Arrays.equals(AimosSegmenterTest.flatten(result.labels), AimosSegmenterTest.flatten(inMemory(pattern16()).labels)),
                     "a virtual stack on its own grid = the in-memory labels");
    }

    static void progressCancelAndErrors() throws Exception {
        ImagePlus image = pattern16();
        try (AimosSegmenter segmenter = new AimosSegmenter(model)) {
            List<String> calls = new ArrayList<>();
            segmenter.segment(image, streamed(WORKING_MM, false), (done, total) -> {
                calls.add(done + "/" + total);
                return false;
            });
            Checks.check(calls.equals(Arrays.asList("1/6", "2/6", "3/6", "4/6", "5/6", "6/6", "1/6", "2/6", "3/6", "4/6", "5/6", "6/6")),
                         "progress: the 6 planes read, then the 6 working slices: " + calls);

            int[] reads = {0};
            try {
                segmenter.segment(image, streamed(WORKING_MM, false), (done, total) -> ++reads[0] >= 3);
                Checks.check(false, "a cancel while reading raises");
            } catch (AimosException error) {
                Checks.check(error.status() == AimosLibrary.AIMOS_ERROR_CANCELLED, "cancel while reading: CANCELLED, got " + error.statusName());
                Checks.check(reads[0] == 3, "stopped at the third plane, got " + reads[0]);
            }
            try {
                segmenter.segment(image, streamed(WORKING_MM, false), (done, total) -> {
                    throw new IllegalStateException("listener failed");
                });
                Checks.check(false, "a listener's exception while reading is re-thrown");
            } catch (IllegalStateException error) {
                Checks.check(error.getMessage().equals("listener failed"), "the listener's own exception comes back");
            }
        }
        AimosSegmenterTest.expectIllegalArgument(() -> segment(new ImagePlus("rgb", new ColorProcessor(NX, NY)), streamed(0, false)),
                                                 "RGB", "RGB streamed");
        ImagePlus uncalibrated = AimosSegmenterTest.sixteenBit(AimosSegmenterTest.patternVoxels(), new double[] {1, 1, 1}, "pixel");
        AimosSegmenterTest.expectIllegalArgument(() -> segment(uncalibrated, streamed(0, false)), "Image > Properties", "uncalibrated");
        AimosSegmenterTest.expectIllegalArgument(() -> segment(pattern16(), streamed(-1, false)), "working voxel size", "negative working size");
        ImageStack mixed = pattern16().getStack();
        RecordingStack odd = new RecordingStack(mixed) {
            @Override
            public ImageProcessor getProcessor(int n) {
                return n == 4 ? new ShortProcessor(NX - 1, NY) : super.getProcessor(n);
            }
        };
        AimosSegmenterTest.expectIllegalArgument(() -> segment(AimosSegmenterTest.calibrated(new ImagePlus("odd", odd), SPACING_MM, "mm"),
                                                               streamed(0, false)), "slice 4", "a plane of another size");
        ImagePlus microns = AimosSegmenterTest.sixteenBit(AimosSegmenterTest.patternVoxels(), new double[] {100, 200, 300}, "micron");
        Checks.check(Arrays.equals(AimosSegmenterTest.flatten(segment(microns, streamed(WORKING_MM, false)).labels),
                                   AimosSegmenterTest.flatten(segment(pattern16(), streamed(WORKING_MM, false)).labels)),
                     "micron calibration: the same working grid and labels as mm");
    }

    static void structLayout() {
        AimosLibrary.aimos_plane_source source = new AimosLibrary.aimos_plane_source();
        source.dtype = 99;
        source.working_voxel_size_mm[1] = 7;
        AimosSegmenter.library().aimos_plane_source_init_sized(source, source.size());
        Checks.check(source.size() == 96 && source.struct_size == 96,
                     "aimos_plane_source is 96 bytes (struct_size, dtype, 3 int64, 3 double, 2 pointers, 3 double), all filled: "
                     + source.size() + ", " + source.struct_size);
        Checks.check(source.dtype == 0 && source.working_voxel_size_mm[1] == 0 && source.plane == null, "init zeroes the rest");
        Checks.check(AimosSegmenter.library().aimos_version_number() >= 10200, "the library has the 1.2 plane entry points");
    }

    static boolean near(double a, double b) {
        return Math.abs(a - b) < 1e-12;
    }
}
