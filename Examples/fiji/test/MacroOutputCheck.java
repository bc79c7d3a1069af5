import ij.IJ;
import ij.ImagePlus;
import ij.measure.Calibration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;

/**
 * Checks what plugin_test.ijm saved (input.tif, labels.tif, labels_axis0.tif, labels_ltd.tif, volumes.csv,
 * prefs.txt; the plane path's outputs: see PlanePathOutputCheck) and ImageJ's
 * stdout (imagej-stdout.txt) against the C API run directly on the saved input voxels.
 * Usage: java -Djna.library.path=DIR -cp ... MacroOutputCheck OUTPUT_DIR MODEL CT_MODEL
 * Prints "N passed, M failed"; exits 1 on any failure.
 */
public final class MacroOutputCheck {
    public static void main(String[] args) {
        Path out = Paths.get(args[0]);
        String model = args[1];
        String ctModel = args[2];
        Checks.test("label image and Results table equal the C API", () -> labelsAndVolumes(out, model));
        Checks.test("stream option: labels equal aimos_segment_planes", () -> PlanePathOutputCheck.streamedInMemory(out, model));
        Checks.test("virtual stack streamed onto a 0.5 mm working grid", () -> PlanePathOutputCheck.virtualStack(out, ctModel));
        Checks.test("dialog values remembered in ij.Prefs", () -> prefs(out, model));
        Checks.test("library error reaches IJ.error", () -> error(out));
        Checks.finish();
    }

    static void labelsAndVolumes(Path out, String model) throws Exception {
        ImagePlus input = IJ.openImage(out.resolve("input.tif").toString());
        ImagePlus labels = IJ.openImage(out.resolve("labels.tif").toString());
        Checks.check(input != null && labels != null, "input.tif and labels.tif exist");
        int nx = input.getWidth();
        int ny = input.getHeight();
        int nz = input.getStackSize();
        Checks.check(input.getBitDepth() == 16 && nx == 23 && ny == 17 && nz == 6, "input is the 23x17x6 16-bit stack");
        Calibration inputCalibration = input.getCalibration();
        double[] spacing = {inputCalibration.pixelWidth, inputCalibration.pixelHeight, inputCalibration.pixelDepth};
        Checks.check(Arrays.equals(spacing, new double[] {0.1, 0.2, 0.3}) && inputCalibration.getUnit().equals("mm"),
                     "input calibration 0.1 x 0.2 x 0.3 mm, got " + Arrays.toString(spacing));

        int[] voxels = new int[nx * ny * nz];
        for (int z = 0; z < nz; z++) {
            short[] slice = (short[]) input.getStack().getPixels(z + 1);
            for (int i = 0; i < nx * ny; i++) {
                voxels[z * nx * ny + i] = slice[i] & 0xFFFF;
            }
        }
        DirectAnswer direct = DirectAnswer.uint16(model, voxels, nx, ny, nz, spacing, 2);

        Checks.check(labels.getBitDepth() == 8 && labels.getWidth() == nx && labels.getHeight() == ny
                     && labels.getStackSize() == nz, "labels are an 8-bit 23x17x6 stack");
        Calibration labelCalibration = labels.getCalibration();
        Checks.check(labelCalibration.pixelWidth == 0.1 && labelCalibration.pixelHeight == 0.2
                     && labelCalibration.pixelDepth == 0.3 && labelCalibration.getUnit().equals("mm"),
                     "labels keep the calibration");
        byte[] flat = AimosSegmenterTest.flatten(labels);
        Checks.check(Arrays.equals(flat, direct.labels), "labels equal the C API's");
        ImagePlus alongX = IJ.openImage(out.resolve("labels_axis0.tif").toString());
        byte[] flatAlongX = AimosSegmenterTest.flatten(alongX);
        Checks.check(Arrays.equals(flatAlongX, DirectAnswer.uint16(model, voxels, nx, ny, nz, spacing, 0).labels),
                     "axis=0 labels equal the C API's for axis 0");
        Checks.check(!Arrays.equals(flatAlongX, flat), "axis 0 and axis 2 differ (else the check is vacuous)");
        byte[] flatCode = AimosSegmenterTest.flatten(IJ.openImage(out.resolve("labels_ltd.tif").toString()));
        Checks.check(Arrays.equals(flatCode, flat), "orientation=LTD labels equal the published axis-2 labels");
        Checks.check(AimosSegmenterTest.count(flat, 0) < flat.length
                     && AimosSegmenterTest.count(flat, 1) + AimosSegmenterTest.count(flat, 2) < flat.length,
                     "more than one class present");

        // Columns by name: ImageJ may add a row-number column (Edit > Options > Input/Output).
        List<String> lines = Files.readAllLines(out.resolve("volumes.csv"), StandardCharsets.UTF_8);
        List<String> header = Arrays.asList(lines.get(0).split(","));
        Checks.check(header.containsAll(Arrays.asList("Class", "Index", "Voxels", "Volume_mm3", "Volume_mL")),
                     "CSV columns Class, Index, Voxels, Volume_mm3, Volume_mL; got " + lines.get(0));
        String[] names = {"background", "Brain", "Heart"};
        Checks.check(lines.size() == 1 + names.length, "one CSV row per class, got " + (lines.size() - 1));
        for (int c = 0; c < names.length && c + 1 < lines.size(); c++) {
            List<String> row = Arrays.asList(lines.get(c + 1).split(","));
            Checks.check(row.get(header.indexOf("Class")).equals(names[c])
                         && Integer.parseInt(row.get(header.indexOf("Index"))) == c, "row " + c + " is " + names[c]);
            long voxelCount = Long.parseLong(row.get(header.indexOf("Voxels")));
            long voxelsOfClass = AimosSegmenterTest.count(flat, c);
            Checks.check(voxelCount == voxelsOfClass, "row " + c + " voxels " + voxelCount + " = " + voxelsOfClass);
            double mm3 = Double.parseDouble(row.get(header.indexOf("Volume_mm3")));
            Checks.check(Math.abs(mm3 - direct.volumesMm3[c]) < 1e-6, "row " + c + " mm3 " + mm3 + " = C API " + direct.volumesMm3[c]);
            Checks.check(Math.abs(mm3 - voxelsOfClass * 0.006) < 1e-6, "row " + c + " mm3 = voxels x 0.1 x 0.2 x 0.3");
            double ml = Double.parseDouble(row.get(header.indexOf("Volume_mL")));
            Checks.check(Math.abs(ml - direct.volumesMm3[c] / 1000) < 1e-9, "row " + c + " mL " + ml);
        }
    }

    static void prefs(Path out, String model) throws Exception {
        List<String> lines = Files.readAllLines(out.resolve("prefs.txt"), StandardCharsets.UTF_8);
        Checks.check(lines.get(0).equals(model), "aimos.model pref is the model, got " + lines.get(0));
        Checks.check(lines.get(1).equals("2"), "aimos.axis pref is 2, got " + lines.get(1));
        Checks.check(lines.get(2).equals("input-labels"), "label image title input-labels, got " + lines.get(2));
    }

    /** IJ.error's text, redirected to the log, which batch-mode ImageJ prints on stdout. */
    static void error(Path out) throws Exception {
        String stdout = new String(Files.readAllBytes(out.resolve("imagej-stdout.txt")), StandardCharsets.UTF_8);
        String expected = "AIMOS Organ Segmentation: AIMOS_ERROR_IO: ";
        int at = stdout.indexOf(expected);
        Checks.check(at >= 0, "the error names the plugin and the status: " + stdout);
        String line = at >= 0 ? stdout.substring(at, stdout.indexOf('\n', at)) : "";
        Checks.check(line.contains(out.resolve("missing.safetensors").toString()), "the library message names the path: " + line);
    }
}
