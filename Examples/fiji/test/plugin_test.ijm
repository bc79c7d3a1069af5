// Drives the plugin the way a user's macro does. Argument: "<output dir>|<model file>".
// Writes input.tif, labels.tif, volumes.csv and prefs.txt for MacroOutputCheck to compare
// with the C API, then runs the plugin once more with a missing model to show the error path.
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

// The error path: the library's message must reach the user through IJ.error. Redirected to the
// log (stdout in batch mode), because a modal error dialog would wait for a click forever.
selectImage("input.tif");
call("ij.IJ.redirectErrorMessages");
run("AIMOS Organ Segmentation", "model=[" + out + "/missing.safetensors] axis=2");
print("macro finished");
