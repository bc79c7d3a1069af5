// Drives the plugin the way a user's macro does. Argument: "<output dir>|<model file>".
// Writes input.tif, labels.tif, volumes.csv, prefs.txt, labels_axis0.tif and labels_ltd.tif for MacroOutputCheck
// to compare with the C API.
args = split(getArgument(), "|");
out = args[0];
model = args[1];

newImage("synthetic", "16-bit black", 23, 17, 6);
for (z = 0; z < nSlices; z++) {
    setSlice(z + 1);
    for (y = 0; y < getHeight(); y++)
        for (x = 0; x < getWidth(); x++)
            setPixel(x, y, (x * 37 + y * y * 11 + z * 101 + ((x * y) % 13) * 50) % 4096 * 16);
}
setVoxelSize(0.1, 0.2, 0.3, "mm");
saveAs("Tiff", out + "/input.tif");

run("AIMOS Organ Segmentation", "model=[" + model + "] axis=2");
if (getTitle() == "input.tif")
    exit("the plugin opened no label image");
labelsTitle = getTitle();
saveAs("Tiff", out + "/labels.tif");
saveAs("Results", out + "/volumes.csv");
File.saveString(call("ij.Prefs.get", "aimos.model", "(unset)") + "\n" + call("ij.Prefs.get", "aimos.axis", "(unset)") + "\n"
    + labelsTitle + "\n", out + "/prefs.txt");

// Another axis, so that the axis option demonstrably reaches the library (2 is also the model's own).
selectImage("input.tif");
run("AIMOS Organ Segmentation", "model=[" + model + "] axis=0");
saveAs("Tiff", out + "/labels_axis0.tif");

// A 0.2 macro: the stack's layout as a code. LTD (x to the left, y to the tail, slices to the
// back) is the published axis-2 cut of the fixture model (TLD), so the labels equal labels.tif.
selectImage("input.tif");
run("AIMOS Organ Segmentation", "model=[" + model + "] orientation=LTD axis=model crop=none");
saveAs("Tiff", out + "/labels_ltd.tif");

// The error path: the library's message must reach IJ.error; PluginErrorProbe runs the plugin so
// that the message lands on stdout (see there why), which test.sh keeps for MacroOutputCheck.
selectImage("input.tif");
call("PluginErrorProbe.run", "model=[" + out + "/missing.safetensors] axis=2");
print("plugin_test.ijm finished");
