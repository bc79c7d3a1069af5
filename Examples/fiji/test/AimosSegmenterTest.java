import aimos.fiji.AimosException;
import aimos.fiji.AimosLibrary;
import aimos.fiji.AimosSegmenter;
import aimos.fiji.LabelLut;
import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.measure.ResultsTable;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.LUT;
import ij.process.ShortProcessor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Tests of AimosSegmenter (no UI) against the C API called directly (DirectAnswer).
 * Usage: java -Djna.library.path=DIR -cp ... AimosSegmenterTest model.safetensors
 * Prints "N passed, M failed"; exits 1 on any failure.
 */
public final class AimosSegmenterTest {
    static final int NX = 23;
    static final int NY = 17;
    static final int NZ = 6;
    static final double[] SPACING_MM = {0.1, 0.2, 0.3};

    private static String model;
    /** See baseline(). */
    private static AimosSegmenter.Result baseline;

    public static void main(String[] args) {
        model = args[0];
        Checks.test("16-bit stack equals the C API", AimosSegmenterTest::sixteenBitStackEqualsTheCApi);
        Checks.test("micron calibration gives mm3", AimosSegmenterTest::micronCalibrationGivesMm3);
        Checks.test("axis 0 equals the C API", AimosSegmenterTest::axisZeroEqualsTheCApi);
        Checks.test("slices are independent along the chosen axis", AimosSegmenterTest::slicesAreIndependentAlongTheAxis);
        Checks.test("8-bit and 32-bit images", AimosSegmenterTest::eightAndThirtyTwoBitImages);
        Checks.test("progress and cancel", AimosSegmenterTest::progressAndCancel);
        Checks.test("errors", AimosSegmenterTest::errors);
        Checks.test("label LUT", AimosSegmenterTest::labelLut);
        Checks.test("struct layout matches the library", AimosSegmenterTest::structLayoutMatchesTheLibrary);
        Checks.test("layout settings reach the library", AimosSegmenterTest::layoutSettingsReachTheLibrary);
        Checks.finish();
    }

    // --- synthetic input -------------------------------------------------------------------

    /** A pattern with no symmetry, in 0..65520 (above 32767 too: proves unsigned 16-bit); different along every axis. */
    static int pattern(int x, int y, int z) {
        return (x * 37 + y * y * 11 + z * 101 + ((x * y) % 13) * 50) % 4096 * 16;
    }

    /** Voxels x fastest, then y, then z (the C layout), from the pattern. */
    static int[] patternVoxels() {
        int[] voxels = new int[NX * NY * NZ];
        for (int z = 0; z < NZ; z++) {
            for (int y = 0; y < NY; y++) {
                for (int x = 0; x < NX; x++) {
                    voxels[x + NX * (y + NY * z)] = pattern(x, y, z);
                }
            }
        }
        return voxels;
    }

    /** A 16-bit ImageJ stack of the voxels, slice k = z + 1, calibrated in the given unit. */
    static ImagePlus sixteenBit(int[] voxels, double[] spacing, String unit) {
        ImageStack stack = new ImageStack(NX, NY);
        for (int z = 0; z < NZ; z++) {
            ShortProcessor slice = new ShortProcessor(NX, NY);
            for (int y = 0; y < NY; y++) {
                for (int x = 0; x < NX; x++) {
                    slice.set(x, y, voxels[x + NX * (y + NY * z)]);
                }
            }
            stack.addSlice("z" + z, slice);
        }
        return calibrated(new ImagePlus("synthetic.tif", stack), spacing, unit);
    }

    static ImagePlus calibrated(ImagePlus image, double[] spacing, String unit) {
        Calibration calibration = new Calibration();
        calibration.pixelWidth = spacing[0];
        calibration.pixelHeight = spacing[1];
        calibration.pixelDepth = spacing[2];
        calibration.setUnit(unit);
        image.setCalibration(calibration);
        return image;
    }

    /** An 8-bit label stack flattened x fastest, then y, then z, at its own size (MacroOutputCheck uses it too). */
    static byte[] flatten(ImagePlus labels) {
        int sliceSize = labels.getWidth() * labels.getHeight();
        int nz = labels.getStackSize();
        byte[] flat = new byte[sliceSize * nz];
        for (int z = 0; z < nz; z++) {
            System.arraycopy((byte[]) labels.getStack().getPixels(z + 1), 0, flat, z * sliceSize, sliceSize);
        }
        return flat;
    }

    static long count(byte[] labels, int value) {
        long n = 0;
        for (byte b : labels) {
            n += (b & 0xFF) == value ? 1 : 0;
        }
        return n;
    }

    static AimosSegmenter.Result segment(ImagePlus image, int axis) throws AimosException {
        try (AimosSegmenter segmenter = new AimosSegmenter(model)) {
            return segmenter.segment(image, axis, 1, null);
        }
    }

    /**
     * The 16-bit pattern in mm segmented along axis 2: computed once (on first use, so a failure
     * shows in each test that needs it) and shared by the tests that only read it.
     */
    static AimosSegmenter.Result baseline() throws AimosException {
        if (baseline == null) {
            baseline = segment(sixteenBit(patternVoxels(), SPACING_MM, "mm"), 2);
        }
        return baseline;
    }

    // --- tests -----------------------------------------------------------------------------

    static void sixteenBitStackEqualsTheCApi() throws Exception {
        int[] voxels = patternVoxels();
        AimosSegmenter.Result result = baseline();
        DirectAnswer direct = DirectAnswer.uint16(model, voxels, NX, NY, NZ, SPACING_MM, 2);

        ImagePlus labels = result.labels;
        Checks.check(labels.getBitDepth() == 8, "labels are 8-bit, got " + labels.getBitDepth());
        Checks.check(labels.getWidth() == NX && labels.getHeight() == NY && labels.getStackSize() == NZ,
              "labels are 23x17x6, got " + labels.getWidth() + "x" + labels.getHeight() + "x" + labels.getStackSize());
        Checks.check(labels.getTitle().equals("synthetic-labels"), "title synthetic-labels, got " + labels.getTitle());
        Calibration calibration = labels.getCalibration();
        Checks.check(calibration.pixelWidth == 0.1 && calibration.pixelHeight == 0.2 && calibration.pixelDepth == 0.3
              && calibration.getUnit().equals("mm"), "labels keep the input calibration");
        byte[] flat = flatten(labels);
        Checks.check(java.util.Arrays.equals(flat, direct.labels), "labels equal the C API's");
        Checks.check(count(flat, 0) != flat.length && count(flat, 1) + count(flat, 2) != flat.length,
              "more than one class present (else the comparison is weak)");

        ResultsTable table = result.volumes;
        Checks.check(table.size() == 3, "one row per class, got " + table.size());
        String[] names = {"background", "Brain", "Heart"};
        double voxelMm3 = 0.1 * 0.2 * 0.3;
        for (int c = 0; c < table.size(); c++) {
            long voxelsOfClass = count(flat, c);
            Checks.check(table.getStringValue("Class", c).equals(names[c]), "row " + c + " is " + names[c]);
            Checks.check(table.getValue("Index", c) == c, "row " + c + " index");
            Checks.check(table.getValue("Voxels", c) == voxelsOfClass, "row " + c + " voxel count " + voxelsOfClass);
            double mm3 = table.getValue("Volume_mm3", c);
            Checks.check(Math.abs(mm3 - direct.volumesMm3[c]) < 1e-9, "row " + c + " mm3 " + mm3 + " = C API " + direct.volumesMm3[c]);
            Checks.check(Math.abs(mm3 - voxelsOfClass * voxelMm3) < 1e-9, "row " + c + " mm3 = voxels x 0.006");
            Checks.check(Math.abs(table.getValue("Volume_mL", c) - mm3 / 1000) < 1e-12, "row " + c + " mL = mm3 / 1000");
        }
    }

    static void micronCalibrationGivesMm3() throws Exception {
        int[] voxels = patternVoxels();
        AimosSegmenter.Result inMm = baseline();
        AimosSegmenter.Result inMicrons = segment(sixteenBit(voxels, new double[] {100, 200, 300}, "\u00b5m"), 2);
        Checks.check(java.util.Arrays.equals(flatten(inMm.labels), flatten(inMicrons.labels)), "same labels in any unit");
        for (int c = 0; c < 3; c++) {
            double mm3 = inMm.volumes.getValue("Volume_mm3", c);
            double fromMicrons = inMicrons.volumes.getValue("Volume_mm3", c);
            Checks.check(Math.abs(mm3 - fromMicrons) < 1e-9 * Math.max(1, mm3), "class " + c + ": " + fromMicrons + " mm3 from um, " + mm3 + " from mm");
        }
    }

    static void axisZeroEqualsTheCApi() throws Exception {
        int[] voxels = patternVoxels();
        byte[] alongX = flatten(segment(sixteenBit(voxels, SPACING_MM, "mm"), 0).labels);
        byte[] alongZ = flatten(baseline().labels);
        Checks.check(java.util.Arrays.equals(alongX, DirectAnswer.uint16(model, voxels, NX, NY, NZ, SPACING_MM, 0).labels),
              "axis 0 labels equal the C API's");
        Checks.check(!java.util.Arrays.equals(alongX, alongZ), "axis 0 and axis 2 differ (else the check is vacuous)");
    }

    /** Slices are segmented independently: changing one changes labels only there. */
    static void slicesAreIndependentAlongTheAxis() throws Exception {
        int[] voxels = patternVoxels();
        int[][] changedAt = {{0, 5}, {1, 9}, {2, 3}};  // {axis, index}
        for (int[] change : changedAt) {
            int axis = change[0];
            int index = change[1];
            int[] changed = voxels.clone();
            for (int z = 0; z < NZ; z++) {
                for (int y = 0; y < NY; y++) {
                    for (int x = 0; x < NX; x++) {
                        int[] position = {x, y, z};
                        if (position[axis] == index) {
                            changed[x + NX * (y + NY * z)] = (pattern(z, x, y) * 7 + 1000) % 65536;
                        }
                    }
                }
            }
            byte[] before = flatten(segment(sixteenBit(voxels, SPACING_MM, "mm"), axis).labels);
            byte[] after = flatten(segment(sixteenBit(changed, SPACING_MM, "mm"), axis).labels);
            int differing = 0;
            boolean onlyThere = true;
            for (int i = 0; i < before.length; i++) {
                if (before[i] != after[i]) {
                    differing++;
                    int[] position = {i % NX, (i / NX) % NY, i / (NX * NY)};
                    onlyThere &= position[axis] == index;
                }
            }
            Checks.check(differing > 0, "axis " + axis + ": the change shows in the labels");
            Checks.check(onlyThere, "axis " + axis + ": labels changed only where the input did");
        }
    }

    static void eightAndThirtyTwoBitImages() throws Exception {
        int[] voxels = patternVoxels();
        int[] bytes = new int[voxels.length];
        float[] floats = new float[voxels.length];
        ImageStack byteStack = new ImageStack(NX, NY);
        ImageStack floatStack = new ImageStack(NX, NY);
        for (int z = 0; z < NZ; z++) {
            ByteProcessor byteSlice = new ByteProcessor(NX, NY);
            FloatProcessor floatSlice = new FloatProcessor(NX, NY);
            for (int y = 0; y < NY; y++) {
                for (int x = 0; x < NX; x++) {
                    int i = x + NX * (y + NY * z);
                    bytes[i] = voxels[i] % 256;
                    floats[i] = voxels[i] * 0.25f - 100.5f;
                    byteSlice.set(x, y, bytes[i]);
                    floatSlice.setf(x, y, floats[i]);
                }
            }
            byteStack.addSlice(byteSlice);
            floatStack.addSlice(floatSlice);
        }
        byte[] fromBytes = flatten(segment(calibrated(new ImagePlus("b", byteStack), SPACING_MM, "mm"), 2).labels);
        byte[] fromFloats = flatten(segment(calibrated(new ImagePlus("f", floatStack), SPACING_MM, "mm"), 2).labels);
        Checks.check(java.util.Arrays.equals(fromBytes, DirectAnswer.uint16(model, bytes, NX, NY, NZ, SPACING_MM, 2).labels),
              "8-bit labels equal the C API's on the same values");
        Checks.check(java.util.Arrays.equals(fromFloats, DirectAnswer.float32(model, floats, NX, NY, NZ, SPACING_MM, 2).labels),
              "32-bit labels equal the C API's");
    }

    static void progressAndCancel() throws Exception {
        ImagePlus image = sixteenBit(patternVoxels(), SPACING_MM, "mm");
        try (AimosSegmenter segmenter = new AimosSegmenter(model)) {
            List<long[]> calls = new ArrayList<>();
            segmenter.segment(image, 2, 2, (done, total) -> {
                calls.add(new long[] {done, total});
                return false;
            });
            boolean counted = calls.size() == NZ;
            for (int i = 0; i < calls.size(); i++) {
                counted &= calls.get(i)[0] == i + 1 && calls.get(i)[1] == NZ;
            }
            Checks.check(counted, "progress reports 1..6 of 6, got " + calls.size() + " calls");

            int[] cancelCalls = {0};
            try {
                segmenter.segment(image, 2, 1, (done, total) -> ++cancelCalls[0] >= 2);
                Checks.check(false, "cancel raises AimosException");
            } catch (AimosException error) {
                Checks.check(error.status() == AimosLibrary.AIMOS_ERROR_CANCELLED, "cancel status, got " + error.statusName());
                Checks.check(cancelCalls[0] == 2, "stopped after the second slice, got " + cancelCalls[0]);
            }
            try {
                segmenter.segment(image, 2, 1, (done, total) -> {
                    throw new IllegalStateException("listener failed");
                });
                Checks.check(false, "a listener's exception is re-thrown");
            } catch (IllegalStateException error) {
                Checks.check(error.getMessage().equals("listener failed"), "the listener's own exception comes back");
            }
        }
    }

    static void errors() throws Exception {
        String missing = "/nonexistent/dir/model.safetensors";
        try {
            new AimosSegmenter(missing).close();
            Checks.check(false, "a missing model file raises");
        } catch (AimosException error) {
            Checks.check(error.status() == AimosLibrary.AIMOS_ERROR_IO, "missing file: status IO, got " + error.statusName());
            Checks.check(error.getMessage().contains(missing), "message names the path: " + error.getMessage());
        }
        float[] floats = new float[NX * NY];
        ImageStack stack = new ImageStack(NX, NY);
        for (int z = 0; z < NZ; z++) {
            FloatProcessor slice = new FloatProcessor(NX, NY);
            for (int i = 0; i < floats.length; i++) {
                slice.setf(i, i * 0.5f + z);
            }
            stack.addSlice(slice);
        }
        stack.getProcessor(3).setf(4, 3, Float.NaN);  // x=4, y=3, slice 3 = z 2
        try {
            segment(calibrated(new ImagePlus("nan", stack), SPACING_MM, "mm"), 2);
            Checks.check(false, "a NaN voxel raises");
        } catch (AimosException error) {
            Checks.check(error.status() == AimosLibrary.AIMOS_ERROR_INVALID_ARGUMENT, "NaN: INVALID_ARGUMENT, got " + error.statusName());
            Checks.check(error.getMessage().contains("(x=4, y=3, z=2)"), "NaN position in x, y, slice-1: " + error.getMessage());
        }
        ImagePlus rgb = new ImagePlus("rgb", new ColorProcessor(NX, NY));
        expectIllegalArgument(() -> segment(rgb, 2), "RGB", "RGB");
        ImagePlus hyperstack = sixteenBit(patternVoxels(), SPACING_MM, "mm");
        hyperstack.setDimensions(2, 3, 1);
        expectIllegalArgument(() -> segment(hyperstack, 2), "2 channels", "two-channel hyperstack");
        expectIllegalArgument(() -> segment(sixteenBit(patternVoxels(), SPACING_MM, "furlong"), 2), "furlong", "unknown unit");
    }

    static void expectIllegalArgument(Checks.Body test, String needle, String what) throws Exception {
        try {
            test.run();
            Checks.check(false, what + " raises IllegalArgumentException");
        } catch (IllegalArgumentException error) {
            Checks.check(error.getMessage().contains(needle), what + ": message '" + error.getMessage() + "' names " + needle);
        }
    }

    static void labelLut() throws Exception {
        LUT lut = LabelLut.create();
        Checks.check(lut.getRGB(0) == 0xFF000000, "label 0 is black");
        Set<Integer> colours = new HashSet<>();
        for (int i = 0; i < 256; i++) {
            colours.add(lut.getRGB(i));
        }
        Checks.check(colours.size() == 256, "256 distinct colours, got " + colours.size());
        ImagePlus labels = baseline().labels;
        Checks.check(labels.getProcessor().getLut().getRGB(1) == lut.getRGB(1)
              && labels.getProcessor().getLut().getRGB(2) == lut.getRGB(2), "the label image uses the label LUT");
        Checks.check(labels.getDisplayRangeMin() == 0 && labels.getDisplayRangeMax() == 255, "display range 0..255 maps indices to LUT entries");
    }

    static void structLayoutMatchesTheLibrary() {
        AimosLibrary.aimos_options options = new AimosLibrary.aimos_options();
        AimosSegmenter.library().aimos_options_init_sized(options, options.size());
        Checks.check(options.struct_size == options.size(), "sizeof(aimos_options) " + options.struct_size + " = JNA size " + options.size());
        Checks.check(options.slice_axis == -1 && options.threads == 0 && options.keep_probabilities == 0 && options.progress == null,
              "aimos_options_init defaults");
        AimosLibrary.aimos_volume volume = new AimosLibrary.aimos_volume();
        AimosSegmenter.library().aimos_volume_init_sized(volume, volume.size());
        Checks.check(volume.size() == 64 && volume.struct_size == 64 && volume.spacing_mm[0] == 1.0,
              "aimos_volume is 64 bytes (struct_size, dtype, pointer, 3 int64, 3 double), initialised by the library");
        Checks.check(AimosSegmenter.library().aimos_version().matches("\\d+\\.\\d+\\.\\d+"), "aimos_version");
    }

    static void layoutSettingsReachTheLibrary() throws AimosException {
        AimosLibrary.aimos_options options = new AimosLibrary.aimos_options();
        AimosSegmenter.library().aimos_options_init_sized(options, options.size());
        Checks.check(options.struct_size == options.size() && options.size() == 56, "0.2 aimos_options is 56 bytes, all filled");
        Checks.check(options.orientation == AimosLibrary.AIMOS_ORIENTATION_AUTO && options.crop == AimosLibrary.AIMOS_CROP_MODEL
              && options.separate_animals == 1 && options.world_matrix == null, "0.2 defaults: auto, the model's crop, animals apart");
        AimosLibrary.aimos_options old = new AimosLibrary.aimos_options();
        AimosSegmenter.library().aimos_options_init(old);
        Checks.check(old.struct_size == 32, "the plain init symbol fills the 0.1 part: " + old.struct_size);

        // The fixture model has the published layout (TLD: rows head to tail, columns to the left,
        // slices to the back). A stack whose x runs left, y to the tail and slices to the back
        // ("LTD") is cut exactly as the published axis 2: same labels as the baseline.
        byte[] published = flatten(baseline().labels);
        AimosSegmenter.Settings code = new AimosSegmenter.Settings();
        code.orientation = "ltd";
        code.crop = "none";
        try (AimosSegmenter segmenter = new AimosSegmenter(model)) {
            AimosSegmenter.Result result = segmenter.segment(sixteenBit(patternVoxels(), SPACING_MM, "mm"), code, null);
            Checks.check(java.util.Arrays.equals(flatten(result.labels), published), "orientation LTD = published axis 2");
            Checks.check(result.layouts.size() == 1 && result.layouts.get(0).orientation.equals("LTD")
                  && result.layouts.get(0).confidence == -1, "the layout used is reported: " + result.layouts);
            Checks.check(result.layouts.get(0).lower[0] == 0 && result.layouts.get(0).upper[2] == NZ, "no crop: the whole stack");

            // Another code reaches the library: the stack read head to tail along x gives other labels.
            code.orientation = "TLD";
            byte[] other = flatten(segmenter.segment(sixteenBit(patternVoxels(), SPACING_MM, "mm"), code, null).labels);
            Checks.check(!java.util.Arrays.equals(other, published), "orientation TLD cuts other slices");

            AimosSegmenter.Result detected = segmenter.segment(sixteenBit(patternVoxels(), SPACING_MM, "mm"),
                                                               new AimosSegmenter.Settings(), null);
            AimosSegmenter.Layout layout = detected.layouts.get(0);
            Checks.check(layout.orientation.length() == 3 && layout.confidence >= 0 && layout.confidence <= 1,
                  "auto detects a layout with a confidence: " + layout);

            code.orientation = "LHX";
            try {
                segmenter.segment(sixteenBit(patternVoxels(), SPACING_MM, "mm"), code, null);
                Checks.check(false, "a bad code is refused");
            } catch (AimosException error) {
                Checks.check(error.status() == AimosLibrary.AIMOS_ERROR_INVALID_ARGUMENT && error.getMessage().contains("LHX"),
                      "a bad code is refused by the library, named: " + error.getMessage());
            }
            code.orientation = "sideways";
            try {
                segmenter.segment(sixteenBit(patternVoxels(), SPACING_MM, "mm"), code, null);
                Checks.check(false, "a long code is refused");
            } catch (IllegalArgumentException error) {
                Checks.check(error.getMessage().contains("sideways"), "a long code is refused: " + error.getMessage());
            }
        }
    }
}
