package aimos.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.Macro;
import ij.Prefs;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import ij.plugin.filter.Analyzer;

/**
 * Plugins > Segmentation > AIMOS Organ Segmentation: segments the current image with an AIMOS
 * model and shows the label image and a Results table of organ volumes.
 *
 * Macro: run("AIMOS Organ Segmentation", "model=/path/model.safetensors orientation=auto crop=model");
 * orientation is auto (the layout detected from the image), none (the stack's axes already are
 * the model's; then axis is 0, 1, 2 = the stack's own slices, or "model") or a code naming where
 * x, y and the slices run in the animal, such as LHD; crop is model, body or none. A macro
 * without orientation= (written for 0.1) keeps the 0.1 behaviour: orientation none, crop none.
 * Plane path (virtual stacks always; "stream" for any stack): working=0.5 sets the working voxel
 * size in mm (absent or 0: the model's), "labels" adds the labels at full resolution as a
 * virtual stack, e.g. "model=[...] stream working=0.5 labels".
 */
public class AIMOS_Segment implements PlugIn {
    static final String TITLE = "AIMOS Organ Segmentation";
    static final String PREF_MODEL = "aimos.model";
    static final String PREF_AXIS = "aimos.axis";
    static final String PREF_ORIENTATION = "aimos.orientation";
    static final String PREF_CROP = "aimos.crop";
    static final String PREF_STREAM = "aimos.stream";
    static final String PREF_WORKING = "aimos.working";
    static final String PREF_FULL_RESOLUTION = "aimos.fullres";
    private static final String[] AXES = {"0", "1", "2", "model"};
    private static final String[] CROPS = {"model", "body", "none"};

    @Override
    public void run(String arg) {
        ImagePlus image = IJ.getImage();  // aborts with "no image" when there is none
        GenericDialog dialog = new GenericDialog(TITLE);
        dialog.addFileField("Model", Prefs.get(PREF_MODEL, ""), 40);
        dialog.addStringField("Orientation", Prefs.get(PREF_ORIENTATION, "auto"), 6);
        dialog.addMessage("Orientation: auto = detected from the image; none = the stack's axes already are the model's\n"
            + "(then Axis applies); or where x, y and the slices run in the animal, e.g. LHD (H/T head/tail,\n"
            + "L/R the animal's left/right, D/V back/belly).");
        dialog.addChoice("Axis", AXES, Prefs.get(PREF_AXIS, "2"));
        dialog.addMessage("Axis cut into 2D slices with orientation none: 2 = the stack's slices (x-y planes), 1 = x-z planes,\n"
            + "0 = y-z planes; AIMOS models are trained on coronal slices. \"model\" = the model file's axis.");
        dialog.addChoice("Crop", CROPS, Prefs.get(PREF_CROP, "model"));
        dialog.addMessage("Crop: body = each animal's extent (beds, tubes and air left out), none = the whole field of view,\n"
            + "model = what the model file declares.");
        String macro = Macro.getOptions();
        boolean virtual = image.getStack().isVirtual();
        dialog.addCheckbox("Stream planes (for stacks larger than memory)", Prefs.get(PREF_STREAM, false));
        // A macro that names no working size means the model's, whatever was typed here last.
        dialog.addNumericField("Working voxel size", macro != null ? 0 : Prefs.get(PREF_WORKING, 0), 4, 8, "mm (0 = the model's)");
        dialog.addCheckbox("Labels at full resolution (virtual)", Prefs.get(PREF_FULL_RESOLUTION, false));
        dialog.addMessage((virtual ? "This stack is virtual: it is always streamed.\n" : "")
            + "Streamed, the stack is read one plane at a time and averaged in blocks onto a working grid of about the working\n"
            + "voxel size, which is segmented; the labels come on that grid, and with full resolution also as a virtual stack\n"
            + "of the stack's size. Needs the voxel size (Image > Properties).");
        // A 0.1 macro names no orientation: it meant the stack's axes as the model's, uncropped.
        // One naming a plane-path option (1.2) is new, whatever it leaves out.
        boolean oldMacro = macro != null && !namesKey(macro, "orientation") && !namesKey(macro, "stream")
            && !namesKey(macro, "working") && !namesKey(macro, "labels");
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return;
        }
        String modelPath = dialog.getNextString().trim();
        String orientation = dialog.getNextString().trim();
        String axis = dialog.getNextChoice();
        String crop = dialog.getNextChoice();
        boolean stream = dialog.getNextBoolean();
        double working = dialog.getNextNumber();
        boolean fullResolution = dialog.getNextBoolean();
        if (dialog.invalidNumber()) {
            IJ.error(TITLE, "The working voxel size must be a number (mm; 0 = the model's)");
            return;
        }
        Prefs.set(PREF_MODEL, modelPath);
        Prefs.set(PREF_AXIS, axis);
        Prefs.set(PREF_STREAM, stream);
        Prefs.set(PREF_WORKING, working);
        Prefs.set(PREF_FULL_RESOLUTION, fullResolution);
        AimosSegmenter.Settings settings = new AimosSegmenter.Settings();
        settings.orientation = oldMacro ? "none" : orientation;
        settings.crop = oldMacro && (macro == null || !namesKey(macro, "crop")) ? "none" : crop;
        settings.sliceAxis = axis.equals("model") ? -1 : Integer.parseInt(axis);
        settings.streamPlanes = stream;
        settings.workingVoxelSizeMm = working;
        settings.fullResolutionLabels = fullResolution;
        if (!settings.orientation.equalsIgnoreCase("none")) {
            settings.sliceAxis = -1;   // with a layout the model's layout decides the axis
        }
        if (!oldMacro) {
            Prefs.set(PREF_ORIENTATION, orientation);
            Prefs.set(PREF_CROP, crop);
        }
        segment(image, modelPath, settings);
    }

    /** Whether macro options name key, as a flag or key=value, outside [bracketed] values (paths). */
    static boolean namesKey(String options, String key) {
        for (String word : options.replaceAll("\\[[^\\]]*\\]", "[]").split("\\s+")) {
            if (word.equals(key) || word.startsWith(key + "=")) {
                return true;
            }
        }
        return false;
    }

    private static void segment(ImagePlus image, String modelPath, AimosSegmenter.Settings settings) {
        boolean streamed = settings.streamPlanes || image.getStack().isVirtual();
        if (!streamed && !image.getCalibration().scaled()) {  // the plane path refuses it instead
            IJ.log(TITLE + ": " + image.getTitle() + " has no voxel size (Image > Properties); volumes assume 1 mm per pixel");
        }
        IJ.resetEscape();
        IJ.showStatus(TITLE + ": " + image.getTitle());
        try (AimosSegmenter segmenter = new AimosSegmenter(modelPath)) {
            AimosSegmenter.Result result = segmenter.segment(image, settings, (done, total) -> {
                IJ.showProgress((int) done, (int) total);
                return IJ.escapePressed();
            });
            for (int k = 0; k < result.layouts.size(); k++) {
                String who = result.layouts.size() > 1 ? "animal " + (k + 1) + ": " : "";
                AimosSegmenter.Layout layout = result.layouts.get(k);
                IJ.log(TITLE + ": " + image.getTitle() + ": " + who + layout);
                if (layout.confidence >= 0 && layout.confidence < 0.3) {
                    IJ.log(TITLE + ": low confidence in the detected layout; if the organs look wrong, give the stack's"
                        + " layout as Orientation (e.g. LHD)");
                }
            }
            if (streamed) {
                int[] f = result.gridFactors;
                ImagePlus labels = result.labels;
                IJ.log(String.format(java.util.Locale.ROOT, "%s: %s: %d planes streamed; segmented on the working grid %dx%dx%d"
                    + " of %.4g x %.4g x %.4g mm (blocks of %dx%dx%d voxels)", TITLE, image.getTitle(), image.getStackSize(),
                    labels.getWidth(), labels.getHeight(), labels.getStackSize(), labels.getCalibration().pixelWidth,
                    labels.getCalibration().pixelHeight, labels.getCalibration().pixelDepth, f[0], f[1], f[2]));
            }
            result.labels.show();
            if (result.fullResolutionLabels != null) {
                result.fullResolutionLabels.show();
            }
            // The system table, so that macros (saveAs("Results"), getResult) and Measure-style tools see it.
            Analyzer.setResultsTable(result.volumes);
            AimosSegmenter.formatVolumeTable(result.volumes);
            result.volumes.show("Results");
            IJ.showStatus(TITLE + ": done");
        } catch (AimosException error) {
            if (error.status() == AimosLibrary.AIMOS_ERROR_CANCELLED) {
                IJ.showStatus(TITLE + ": cancelled");
            } else {
                IJ.error(TITLE, error.getMessage());
            }
        } catch (IllegalArgumentException | IllegalStateException | UnsatisfiedLinkError error) {
            IJ.error(TITLE, error.getMessage());
        } finally {
            IJ.showProgress(1.0);
        }
    }
}
