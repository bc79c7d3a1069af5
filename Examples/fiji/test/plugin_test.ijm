// Drives the plugin the way a user's macro does. Argument: "<output dir>|<model file>|<CT model>|<sample CT>".
// Writes input.tif, labels.tif, volumes.csv, prefs.txt, labels_axis0.tif, labels_ltd.tif, labels_stream.tif
// and, for the virtual stack, planes/, planes_labels.tif, planes_volumes.csv, planes_full_<slice>.tif and
// planes_info.txt for MacroOutputCheck to compare with the C API.
args = split(getArgument(), "|");
out = args[0];
model = args[1];
ctModel = args[2];
ct = args[3];

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

// The plane path ticked for a stack in memory: blocks of 4 x 2 x 1 voxels (working 0.4 mm).
selectImage("input.tif");
run("AIMOS Organ Segmentation", "model=[" + model + "] orientation=none axis=2 crop=none stream working=0.4");
saveAs("Tiff", out + "/labels_stream.tif");

// A virtual stack, as a light-sheet scan too large to load is opened: 16-bit TIFF planes written
// by ImageJ (the sample CT four times finer, see SampleStack), opened virtual, 0.125 mm. Streamed
// without "stream" because it is virtual; working grid 0.5 mm, labels also at full resolution.
planes = out + "/planes";
File.makeDirectory(planes);
call("SampleStack.writePlanes", ct, planes);
File.openSequence(planes + "/", " virtual");
inputVirtual = is("Virtual Stack");
getDimensions(inputWidth, inputHeight, channels, inputSlices, frames);
setVoxelSize(0.125, 0.125, 0.125, "mm");
run("AIMOS Organ Segmentation", "model=[" + ctModel + "] orientation=auto axis=model crop=model working=0.5 labels");
saveAs("Results", out + "/planes_volumes.csv");
if (!isOpen("planes-labels") || !isOpen("planes-labels-full"))
    exit("the plane path did not open planes-labels and planes-labels-full");
selectImage("planes-labels-full");
fullVirtual = is("Virtual Stack");
getDimensions(fullWidth, fullHeight, channels, fullSlices, frames);
getVoxelSize(fullX, fullY, fullZ, fullUnit);
// Slices 1-4 share working plane 0, 5 starts plane 1, 189 is in the last, partial block.
checked = newArray(1, 2, 4, 5, 96, 189);
for (i = 0; i < checked.length; i++) {
    selectImage("planes-labels-full");
    setSlice(checked[i]);
    run("Duplicate...", "title=full_plane");
    saveAs("Tiff", out + "/planes_full_" + checked[i] + ".tif");
    close();
}
selectImage("planes-labels");
saveAs("Tiff", out + "/planes_labels.tif");
File.saveString(inputVirtual + " " + inputWidth + " " + inputHeight + " " + inputSlices + "\n"
    + fullVirtual + " " + fullWidth + " " + fullHeight + " " + fullSlices + "\n"
    + fullX + " " + fullY + " " + fullZ + " " + fullUnit + "\n"
    + call("ij.Prefs.get", "aimos.working", "(unset)") + " " + call("ij.Prefs.get", "aimos.fullres", "(unset)") + "\n",
    out + "/planes_info.txt");

// The error path: the library's message must reach IJ.error; PluginErrorProbe runs the plugin so
// that the message lands on stdout (see there why), which test.sh keeps for MacroOutputCheck.
selectImage("input.tif");
call("PluginErrorProbe.run", "model=[" + out + "/missing.safetensors] axis=2");
print("plugin_test.ijm finished");
