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
 */
public class AIMOS_Segment implements PlugIn {
    static final String TITLE = "AIMOS Organ Segmentation";
    static final String PREF_MODEL = "aimos.model";
    static final String PREF_AXIS = "aimos.axis";
    static final String PREF_ORIENTATION = "aimos.orientation";
    static final String PREF_CROP = "aimos.crop";
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
        // A 0.1 macro names no orientation: it meant the stack's axes as the model's, uncropped.
        String macro = Macro.getOptions();
        boolean oldMacro = macro != null && !macro.contains("orientation=");
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return;
        }
        String modelPath = dialog.getNextString().trim();
        String orientation = dialog.getNextString().trim();
        String axis = dialog.getNextChoice();
        String crop = dialog.getNextChoice();
        Prefs.set(PREF_MODEL, modelPath);
        Prefs.set(PREF_AXIS, axis);
        AimosSegmenter.Settings settings = new AimosSegmenter.Settings();
        settings.orientation = oldMacro ? "none" : orientation;
        settings.crop = oldMacro && (macro == null || !macro.contains("crop=")) ? "none" : crop;
        settings.sliceAxis = axis.equals("model") ? -1 : Integer.parseInt(axis);
        if (!settings.orientation.equalsIgnoreCase("none")) {
            settings.sliceAxis = -1;   // with a layout the model's layout decides the axis
        }
        if (!oldMacro) {
            Prefs.set(PREF_ORIENTATION, orientation);
            Prefs.set(PREF_CROP, crop);
        }
        segment(image, modelPath, settings);
    }

    private static void segment(ImagePlus image, String modelPath, AimosSegmenter.Settings settings) {
        if (!image.getCalibration().scaled()) {
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
            result.labels.show();
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
        } catch (IllegalArgumentException | UnsatisfiedLinkError error) {
            IJ.error(TITLE, error.getMessage());
        } finally {
            IJ.showProgress(1.0);
        }
    }
}
