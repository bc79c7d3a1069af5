package aimos.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.Prefs;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import ij.plugin.filter.Analyzer;

/**
 * Plugins > Segmentation > AIMOS Organ Segmentation: segments the current image with an AIMOS
 * model and shows the label image and a Results table of organ volumes.
 *
 * Macro: run("AIMOS Organ Segmentation", "model=/path/model.safetensors axis=2");
 * axis is 0, 1, 2 (2 = the stack's own slices) or "model" (the axis the model file names).
 */
public class AIMOS_Segment implements PlugIn {
    static final String TITLE = "AIMOS Organ Segmentation";
    static final String PREF_MODEL = "aimos.model";
    static final String PREF_AXIS = "aimos.axis";
    private static final String[] AXES = {"0", "1", "2", "model"};

    @Override
    public void run(String arg) {
        ImagePlus image = IJ.getImage();  // aborts with "no image" when there is none
        GenericDialog dialog = new GenericDialog(TITLE);
        dialog.addFileField("Model", Prefs.get(PREF_MODEL, ""), 40);
        dialog.addChoice("Axis", AXES, Prefs.get(PREF_AXIS, "2"));
        dialog.addMessage("Axis cut into 2D slices: 2 = the stack's slices (x-y planes), 1 = x-z planes,\n"
            + "0 = y-z planes; AIMOS models are trained on coronal slices. \"model\" = the model file's axis.");
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return;
        }
        String modelPath = dialog.getNextString().trim();
        String axis = dialog.getNextChoice();
        Prefs.set(PREF_MODEL, modelPath);
        Prefs.set(PREF_AXIS, axis);
        segment(image, modelPath, axis.equals("model") ? -1 : Integer.parseInt(axis));
    }

    private static void segment(ImagePlus image, String modelPath, int sliceAxis) {
        if (!image.getCalibration().scaled()) {
            IJ.log(TITLE + ": " + image.getTitle() + " has no voxel size (Image > Properties); volumes assume 1 mm per pixel");
        }
        IJ.resetEscape();
        IJ.showStatus(TITLE + ": " + image.getTitle());
        try (AimosSegmenter segmenter = new AimosSegmenter(modelPath)) {
            AimosSegmenter.Result result = segmenter.segment(image, sliceAxis, 0, (done, total) -> {
                IJ.showProgress((int) done, (int) total);
                return IJ.escapePressed();
            });
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
