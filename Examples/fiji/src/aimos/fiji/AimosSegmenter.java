package aimos.fiji;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.measure.ResultsTable;
import ij.process.ByteProcessor;

/**
 * Organ segmentation of an ImageJ image with libaimos, without any user interface.
 *
 * Layout: an ImageJ stack is x fastest, then y, then slices, which is exactly the C API's
 * (x, y, z) order, so slice k of the stack is z = k - 1 and "slice axis 2" cuts the stack's own
 * slices. Voxels go to the library as stored (8-bit unsigned, 16-bit unsigned, 32-bit float);
 * a linear density calibration (e.g. signed 16-bit) does not matter because every slice is
 * z-scored. The voxel size comes from the image calibration (pixelWidth, pixelHeight,
 * pixelDepth and unit), converted to mm.
 *
 * Two paths: a stack in memory goes to aimos_segment whole and its labels come back on its own
 * grid. A virtual stack (or any stack with Settings.streamPlanes) goes to aimos_segment_planes
 * one slice at a time (PlaneFeeder), so it is never loaded: the library averages the planes in
 * blocks onto a coarser working grid and the labels come back on that grid (Result.gridFactors;
 * UpsampledLabelStack shows them at full resolution without holding them there).
 */
public final class AimosSegmenter implements AutoCloseable {

    /**
     * Called after each segmented slice; return true to cancel. Calls never overlap. On the plane
     * path it is called first for each plane read (z + 1 of the stack's planes), then for each
     * slice of the working grid.
     */
    public interface ProgressListener {
        boolean progress(long done, long total);
    }

    /**
     * How to lay the stack out for the model (see include/aimos.h, aimos_options):
     * orientation "auto" (detected from the image), "none" (the stack's axes already are the
     * model's; sliceAxis applies) or a three-letter code naming where x, y and the slices run in
     * the animal (e.g. "LHD"); crop "model" (what the model file declares), "body" or "none".
     */
    public static final class Settings {
        public String orientation = "auto";
        public int sliceAxis = -1;
        public String crop = "model";
        public int threads = 0;
        /** Hand the stack over plane by plane (aimos_segment_planes) even when it is in memory;
         *  virtual stacks always go that way. */
        public boolean streamPlanes = false;
        /** The plane path's working voxel size in mm (each axis); 0 = the model's training voxel size. */
        public double workingVoxelSizeMm = 0;
        /** On the plane path, also make Result.fullResolutionLabels (an UpsampledLabelStack). */
        public boolean fullResolutionLabels = false;

        /** The 0.1 behaviour: the stack's axes are the model's, the whole field of view. */
        public static Settings published(int sliceAxis, int threads) {
            Settings settings = new Settings();
            settings.orientation = "none";
            settings.crop = "none";
            settings.sliceAxis = sliceAxis;
            settings.threads = threads;
            return settings;
        }
    }

    /** How one animal was segmented: its layout code ("" with orientation none), the detection
     *  confidence (-1 unless detected) and its crop, [lower, upper) voxels along x, y, z. */
    public static final class Layout {
        public final String orientation;
        public final double confidence;
        public final long[] lower;
        public final long[] upper;

        Layout(String orientation, double confidence, long[] lower, long[] upper) {
            this.orientation = orientation;
            this.confidence = confidence;
            this.lower = lower;
            this.upper = upper;
        }

        @Override
        public String toString() {
            String code = orientation.isEmpty() ? "orientation none" : "orientation " + orientation;
            String detected = confidence >= 0 ? String.format(" (detected, confidence %d %%)", Math.round(confidence * 100)) : "";
            return code + detected + String.format(", crop x %d-%d, y %d-%d, z %d-%d", lower[0], upper[0], lower[1], upper[1],
                                                   lower[2], upper[2]);
        }
    }

    /**
     * The outcome: an 8-bit label stack (one value per class), one table row per class, and each
     * animal's layout. On the plane path, labels, the table's voxel counts and the layouts' crops
     * are on the working grid (labels' calibration: its voxel size in mm).
     */
    public static final class Result {
        public final ImagePlus labels;
        public final ResultsTable volumes;
        public final java.util.List<Layout> layouts;
        /** Stack voxels per label voxel along x, y, z: 1, 1, 1 unless the plane path averaged blocks. */
        public final int[] gridFactors;
        /** The labels at the stack's resolution (a virtual UpsampledLabelStack), if asked for on
         *  the plane path; else null. */
        public final ImagePlus fullResolutionLabels;

        Result(ImagePlus labels, ResultsTable volumes, java.util.List<Layout> layouts, int[] gridFactors,
               ImagePlus fullResolutionLabels) {
            this.labels = labels;
            this.volumes = volumes;
            this.layouts = layouts;
            this.gridFactors = gridFactors;
            this.fullResolutionLabels = fullResolutionLabels;
        }
    }

    /** The first library version with aimos_segment_planes (AIMOS_VERSION_NUMBER of 1.2.0). */
    static final int PLANE_SOURCE_VERSION = 10200;

    private static AimosLibrary library;

    private final AimosLibrary lib;
    private Pointer model;
    private final String[] classNames;

    /** Loads a model file (safetensors); the library itself is loaded on first use. */
    public AimosSegmenter(String modelPath) throws AimosException {
        lib = library();
        PointerByReference out = new PointerByReference();
        check(lib, lib.aimos_load_model(modelPath, out));
        model = out.getValue();
        classNames = new String[lib.aimos_model_class_count(model)];
        for (int index = 0; index < classNames.length; index++) {
            classNames[index] = lib.aimos_model_class_name(model, index);
        }
    }

    /** The shared library binding, loaded once (see AimosLibrary.load for where it looks). */
    public static synchronized AimosLibrary library() {
        if (library == null) {
            library = AimosLibrary.load();
        }
        return library;
    }

    /** Class names, background (index 0) first. */
    public String[] classNames() {
        return classNames.clone();
    }

    /**
     * Segments a single-channel, single-frame 8, 16 or 32-bit image or stack.
     *
     * @param sliceAxis 0, 1 or 2 (2 = the stack's slices), or -1 for the model's own axis
     * @param threads   worker threads, 0 = one per core
     * @param listener  progress reports and cancellation; may be null
     * @throws AimosException           when the library fails (status CANCELLED if cancelled)
     * @throws IllegalArgumentException for RGB images, hyperstacks, an unknown length unit, and
     *                                  on the plane path an uncalibrated stack or a slice unlike the others
     * @throws IllegalStateException    on the plane path with a library older than 1.2
     */
    public Result segment(ImagePlus image, int sliceAxis, int threads, ProgressListener listener) throws AimosException {
        return segment(image, Settings.published(sliceAxis, threads), listener);
    }

    /**
     * Segments with the given settings (see Settings); listener may be null. A virtual stack, or
     * any with settings.streamPlanes, takes the plane path (see the class comment).
     */
    public Result segment(ImagePlus image, Settings settings, ProgressListener listener) throws AimosException {
        if (model == null) {
            throw new IllegalStateException("segment on a closed AimosSegmenter");
        }
        if (image.getNChannels() > 1 || image.getNFrames() > 1) {
            throw new IllegalArgumentException("AIMOS segments one channel and one time point; this image has "
                + image.getNChannels() + " channels and " + image.getNFrames() + " frames");
        }
        if (settings.streamPlanes || image.getStack().isVirtual()) {
            return segmentPlanes(image, settings, listener);
        }
        int width = image.getWidth();
        int height = image.getHeight();
        int depth = image.getStackSize();
        Calibration calibration = image.getCalibration();
        double mmPerUnit = millimetresPerUnit(calibration.getUnit());

        AimosLibrary.aimos_volume volume = new AimosLibrary.aimos_volume();
        lib.aimos_volume_init_sized(volume, volume.size());
        Memory voxels = copyVoxels(image, volume);
        volume.data = voxels;
        volume.dims = new long[] {width, height, depth};
        volume.spacing_mm = new double[] {calibration.pixelWidth * mmPerUnit, calibration.pixelHeight * mmPerUnit,
                                          calibration.pixelDepth * mmPerUnit};

        Throwable[] thrown = new Throwable[1];
        AimosLibrary.aimos_options options = options(settings, listener, thrown);
        PointerByReference out = new PointerByReference();
        int status = lib.aimos_segment(model, volume, options, out);
        rethrow(thrown[0]);
        check(lib, status);
        Pointer result = out.getValue();
        try {
            ImagePlus labels = copyLabels(lib.aimos_result_labels(result), image, width, height, depth);
            return new Result(labels, volumeTable(result, labels.getStack()), layouts(result), new int[] {1, 1, 1}, null);
        } finally {
            lib.aimos_result_free(result);
        }
    }

    /** The plane path: the stack handed over slice by slice through PlaneFeeder, labels on the working grid. */
    private Result segmentPlanes(ImagePlus image, Settings settings, ProgressListener listener) throws AimosException {
        if (lib.aimos_version_number() < PLANE_SOURCE_VERSION) {
            throw new IllegalStateException("streaming planes needs libaimos 1.2 or later; the one loaded is "
                + lib.aimos_version() + ": install the libaimos.so that came with this plugin");
        }
        int bitDepth = image.getBitDepth();
        double working = settings.workingVoxelSizeMm;
        if (!(working >= 0) || Double.isInfinite(working)) {
            throw new IllegalArgumentException("the working voxel size must be a size in mm, or 0 for the model's; got " + working);
        }
        ImageStack stack = image.getStack();
        AimosLibrary.aimos_plane_source source = new AimosLibrary.aimos_plane_source();
        lib.aimos_plane_source_init_sized(source, source.size());
        source.dtype = dtype(bitDepth);
        source.dims = new long[] {image.getWidth(), image.getHeight(), stack.getSize()};
        source.spacing_mm = calibratedSpacingMm(image);
        source.working_voxel_size_mm = new double[] {working, working, working};
        Throwable[] thrown = new Throwable[1];
        AimosLibrary.aimos_options options = options(settings, listener, thrown);
        PlaneFeeder feeder = new PlaneFeeder(stack, bitDepth, listener);   // last: it allocates the plane buffer
        source.plane = feeder;
        PointerByReference out = new PointerByReference();
        int status;
        try {
            status = lib.aimos_segment_planes(model, source, options, out);
        } finally {
            feeder.release();   // a use after the call: keeps the callback reachable (not collected) during it
        }
        rethrow(feeder.failure());
        if (feeder.cancelled()) {
            // The library sees a NULL plane (AIMOS_ERROR_IO); the listener meant a cancel.
            int cancelled = AimosLibrary.AIMOS_ERROR_CANCELLED;
            throw new AimosException(cancelled, lib.aimos_status_string(cancelled), "cancelled while reading the stack's planes");
        }
        rethrow(thrown[0]);
        check(lib, status);
        Pointer result = out.getValue();
        try {
            long[] dims = new long[3];
            double[] spacing = new double[3];
            long[] factors = new long[3];
            check(lib, lib.aimos_result_dims(result, dims));
            check(lib, lib.aimos_result_spacing(result, spacing));
            check(lib, lib.aimos_result_grid_factors(result, factors));
            int[] gridFactors = {(int) factors[0], (int) factors[1], (int) factors[2]};
            ImagePlus labels = workingLabels(lib.aimos_result_labels(result), image, dims, spacing, gridFactors);
            ImagePlus full = null;
            if (settings.fullResolutionLabels) {
                full = new ImagePlus(baseTitle(image.getTitle()) + "-labels-full",
                                     new UpsampledLabelStack(labels.getStack(), image.getWidth(), image.getHeight(),
                                                             stack.getSize(), gridFactors));
                labelDisplay(full, image.getCalibration().copy());
            }
            return new Result(labels, volumeTable(result, labels.getStack()), layouts(result), gridFactors, full);
        } finally {
            lib.aimos_result_free(result);
        }
    }

    /** The options of both paths; the listener's exception, if any, lands in thrown[0]. */
    private AimosLibrary.aimos_options options(Settings settings, ProgressListener listener, Throwable[] thrown) {
        AimosLibrary.aimos_options options = new AimosLibrary.aimos_options();
        lib.aimos_options_init_sized(options, options.size());
        options.slice_axis = settings.sliceAxis;
        options.threads = settings.threads;
        applyLayout(settings, options);
        if (listener != null) {
            // Held by options, an argument of the library call, so the GC keeps the callback through it.
            options.progress = (userData, done, total) -> {
                try {
                    return listener.progress(done, total) ? 1 : 0;
                } catch (Throwable error) {  // an exception cannot cross the C frames: keep it, cancel
                    thrown[0] = error;
                    return 1;
                }
            };
        }
        return options;
    }

    /** Throws what a callback kept (nothing for null). */
    private static void rethrow(Throwable thrown) {
        if (thrown instanceof RuntimeException) {
            throw (RuntimeException) thrown;
        } else if (thrown instanceof Error) {
            throw (Error) thrown;
        } else if (thrown != null) {
            throw new RuntimeException(thrown);
        }
    }

    /** Frees the model; calling it twice is harmless. */
    @Override
    public void close() {
        if (model != null) {
            lib.aimos_model_free(model);
            model = null;
        }
    }

    /** Settings.orientation and Settings.crop into the options' 0.2 fields. */
    static void applyLayout(Settings settings, AimosLibrary.aimos_options options) {
        String orientation = settings.orientation.trim();
        switch (orientation.toLowerCase(java.util.Locale.ROOT)) {
            case "auto": options.orientation = AimosLibrary.AIMOS_ORIENTATION_AUTO; break;
            case "none": options.orientation = AimosLibrary.AIMOS_ORIENTATION_NONE; break;
            default:
                if (orientation.length() != 3) {
                    throw new IllegalArgumentException("orientation must be auto, none or a code of three letters (one each of "
                        + "H/T, L/R, D/V), such as LHD; got '" + orientation + "'");
                }
                options.orientation = AimosLibrary.AIMOS_ORIENTATION_CODE;   // the library checks the letters
                byte[] code = orientation.toUpperCase(java.util.Locale.ROOT).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                System.arraycopy(code, 0, options.orientation_code, 0, 3);
                options.orientation_code[3] = 0;
        }
        switch (settings.crop.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "model": options.crop = AimosLibrary.AIMOS_CROP_MODEL; break;
            case "body": options.crop = AimosLibrary.AIMOS_CROP_BODY; break;
            case "none": options.crop = AimosLibrary.AIMOS_CROP_NONE; break;
            default: throw new IllegalArgumentException("crop must be model, body or none; got '" + settings.crop + "'");
        }
    }

    /** Every animal's layout from a result. */
    private java.util.List<Layout> layouts(Pointer result) throws AimosException {
        java.util.List<Layout> layouts = new java.util.ArrayList<>();
        for (int animal = 0; animal < lib.aimos_result_animal_count(result); animal++) {
            AimosLibrary.aimos_layout layout = new AimosLibrary.aimos_layout();
            layout.struct_size = layout.size();
            check(lib, lib.aimos_result_layout(result, animal, layout));
            String code = new String(layout.orientation, java.nio.charset.StandardCharsets.US_ASCII).replace("\0", "");
            layouts.add(new Layout(code, layout.confidence, layout.crop_lower.clone(), layout.crop_upper.clone()));
        }
        return layouts;
    }

    /** Throws AimosException with the library's message for a failed status. */
    static void check(AimosLibrary lib, int status) throws AimosException {
        if (status != AimosLibrary.AIMOS_OK) {
            // aimos_last_error is per thread; JNA calls it on this thread, right after the failure.
            throw new AimosException(status, lib.aimos_status_string(status), lib.aimos_last_error());
        }
    }

    /** The aimos_dtype of an ImageJ bit depth: 8-bit unsigned, 16-bit unsigned, 32-bit float; RGB refused. */
    static int dtype(int bitDepth) {
        switch (bitDepth) {
            case 8: return AimosLibrary.AIMOS_DTYPE_UINT8;
            case 16: return AimosLibrary.AIMOS_DTYPE_UINT16;
            case 32: return AimosLibrary.AIMOS_DTYPE_FLOAT32;
            default: throw new IllegalArgumentException("AIMOS needs an 8, 16 or 32-bit grayscale image, not "
                + bitDepth + "-bit (RGB): convert it first (Image > Type)");
        }
    }

    /** The stack's voxels, x fastest then y then slices, in native memory; sets volume.dtype. */
    private static Memory copyVoxels(ImagePlus image, AimosLibrary.aimos_volume volume) {
        ImageStack stack = image.getStack();
        long sliceVoxels = (long) image.getWidth() * image.getHeight();
        volume.dtype = dtype(image.getBitDepth());
        int bytes = image.getBitDepth() / 8;
        Memory memory = new Memory(sliceVoxels * stack.getSize() * bytes);
        for (int z = 0; z < stack.getSize(); z++) {
            Object pixels = stack.getPixels(z + 1);
            long offset = z * sliceVoxels * bytes;
            if (pixels instanceof byte[]) {
                memory.write(offset, (byte[]) pixels, 0, (int) sliceVoxels);
            } else if (pixels instanceof short[]) {
                memory.write(offset, (short[]) pixels, 0, (int) sliceVoxels);
            } else {
                memory.write(offset, (float[]) pixels, 0, (int) sliceVoxels);
            }
        }
        return memory;
    }

    /** The label map as an 8-bit stack with the input's geometry and a label LUT. */
    private static ImagePlus copyLabels(Pointer labels, ImagePlus image, int width, int height, int depth) {
        ImageStack stack = new ImageStack(width, height);
        int sliceVoxels = width * height;
        for (int z = 0; z < depth; z++) {
            byte[] slice = labels.getByteArray((long) z * sliceVoxels, sliceVoxels);
            stack.addSlice(image.getStack().getSliceLabel(z + 1), new ByteProcessor(width, height, slice));
        }
        ImagePlus result = new ImagePlus(baseTitle(image.getTitle()) + "-labels", stack);
        labelDisplay(result, image.getCalibration().copy());
        return result;
    }

    /**
     * The working-grid label map (dims from aimos_result_dims) as an 8-bit stack in mm: voxel size
     * from aimos_result_spacing, origin (in pixels) divided by the factors, since working voxel j
     * starts at stack voxel j * f.
     */
    private static ImagePlus workingLabels(Pointer labels, ImagePlus image, long[] dims, double[] spacingMm, int[] factors) {
        int width = (int) dims[0];
        int height = (int) dims[1];
        int sliceVoxels = width * height;
        ImageStack stack = new ImageStack(width, height);
        for (int z = 0; z < dims[2]; z++) {
            stack.addSlice(null, new ByteProcessor(width, height, labels.getByteArray((long) z * sliceVoxels, sliceVoxels)));
        }
        ImagePlus result = new ImagePlus(baseTitle(image.getTitle()) + "-labels", stack);
        Calibration input = image.getCalibration();
        Calibration calibration = new Calibration();
        calibration.setUnit("mm");
        calibration.pixelWidth = spacingMm[0];
        calibration.pixelHeight = spacingMm[1];
        calibration.pixelDepth = spacingMm[2];
        calibration.xOrigin = input.xOrigin / factors[0];
        calibration.yOrigin = input.yOrigin / factors[1];
        calibration.zOrigin = input.zOrigin / factors[2];
        labelDisplay(result, calibration);
        return result;
    }

    /** Gives a label image its calibration (densities off: values are class indices) and the label LUT. */
    private static void labelDisplay(ImagePlus labels, Calibration calibration) {
        calibration.disableDensityCalibration();
        labels.setCalibration(calibration);
        labels.setLut(LabelLut.create());
        labels.setDisplayRange(0, 255);
    }

    /** Class, Index, Voxels, Volume_mm3 (from the library), Volume_mL: one row per class. */
    private ResultsTable volumeTable(Pointer result, ImageStack labels) {
        long[] counts = new long[256];
        for (int z = 1; z <= labels.getSize(); z++) {
            for (byte value : (byte[]) labels.getPixels(z)) {
                counts[value & 0xFF]++;
            }
        }
        ResultsTable table = new ResultsTable();
        for (int index = 0; index < classNames.length; index++) {
            double mm3 = lib.aimos_result_volume_mm3(result, index);
            table.incrementCounter();
            table.addValue("Class", classNames[index]);
            table.addValue("Index", index);
            table.addValue("Voxels", counts[index]);
            table.addValue("Volume_mm3", mm3);
            table.addValue("Volume_mL", mm3 / 1000.0);
        }
        formatVolumeTable(table);
        return table;
    }

    /**
     * Integers without decimals, volumes with enough of them, no row numbers. Call it again after
     * Analyzer.setResultsTable, which resets the format of the table it is given.
     */
    public static void formatVolumeTable(ResultsTable table) {
        table.showRowNumbers(false);
        table.setDecimalPlaces(table.getColumnIndex("Index"), 0);
        table.setDecimalPlaces(table.getColumnIndex("Voxels"), 0);
        table.setDecimalPlaces(table.getColumnIndex("Volume_mm3"), 6);
        table.setDecimalPlaces(table.getColumnIndex("Volume_mL"), 9);
    }

    /**
     * The plane path's voxel size in mm (x, y, z, each axis in its own unit). An uncalibrated
     * stack is refused: the working grid's blocks are computed from the voxel size, and 1 mm per
     * pixel would make them wrong by orders of magnitude.
     */
    static double[] calibratedSpacingMm(ImagePlus image) {
        Calibration calibration = image.getCalibration();
        String[] units = {calibration.getUnit(), calibration.getYUnit(), calibration.getZUnit()};
        for (String unit : units) {
            String u = unit == null ? "" : unit.trim().toLowerCase(java.util.Locale.ROOT);
            if (!calibration.scaled() || u.isEmpty() || u.equals("pixel") || u.equals("pixels")) {
                throw new IllegalArgumentException(image.getTitle() + " has no voxel size; set it in Image > Properties "
                    + "(e.g. 0.005 mm or 5 micron): the working grid is computed from it");
            }
        }
        return new double[] {calibration.pixelWidth * millimetresPerUnit(units[0]),
                             calibration.pixelHeight * millimetresPerUnit(units[1]),
                             calibration.pixelDepth * millimetresPerUnit(units[2])};
    }

    /** Millimetres per calibration unit; an uncalibrated image ("pixel") counts as 1 mm per pixel. */
    static double millimetresPerUnit(String unit) {
        String u = unit == null ? "" : unit.trim().toLowerCase();
        switch (u) {
            case "mm": case "millimeter": case "millimeters": case "millimetre": case "millimetres":
            case "pixel": case "pixels": case "":
                return 1.0;
            case "\u00b5m": case "\u03bcm": case "um": case "micron": case "microns":
            case "micrometer": case "micrometers": case "micrometre": case "micrometres":
                return 1e-3;
            case "nm": case "nanometer": case "nanometers": case "nanometre": case "nanometres":
                return 1e-6;
            case "cm": case "centimeter": case "centimeters": case "centimetre": case "centimetres":
                return 10.0;
            case "m": case "meter": case "meters": case "metre": case "metres":
                return 1000.0;
            case "inch": case "inches": case "in":
                return 25.4;
            default:
                throw new IllegalArgumentException("unknown length unit '" + unit
                    + "' in the image calibration (Image > Properties); use mm or \u00b5m");
        }
    }

    private static String baseTitle(String title) {
        int dot = title.lastIndexOf('.');
        return dot > 0 ? title.substring(0, dot) : title;
    }
}
