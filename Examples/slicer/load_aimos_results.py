"""Open an aimos segmentation in 3D Slicer: the scan, the label map and its colour table.

Inside the 3D Slicer application:

    Slicer --python-script Examples/slicer/load_aimos_results.py scan.nii.gz labels.nii.gz labels.ctbl

Without a GUI, with 3D Slicer's own core libraries from PyPI (`pip install slicer-core`):

    python3 Examples/slicer/load_aimos_results.py scan.nii.gz labels.nii.gz labels.ctbl

Both load the files through Slicer's Colors and Volumes module logic, the code behind
File > Add Data (the label map with "LabelMap" ticked), give the label map the aimos colour
table, turn it into a segmentation with one named segment per organ (ready for the Segment
Editor), and print the organ table as Slicer sees it: label value, the colour node's name
for it, voxel count and volume in mm3 from Slicer's own spacing.
"""
import csv
import sys

import numpy as np
import slicer
from vtk import vtkLogger
from vtk.util.numpy_support import vtk_to_numpy


class SlicerScene:
    """A scene with Slicer's Colors, Volumes and Segmentations logic: the application's own
    inside 3D Slicer, a new scene wired the same way when only Slicer's core libraries are
    installed. Keep it alive while its nodes are used: the nodes belong to its scene."""

    def __init__(self):
        if hasattr(slicer, "app"):
            self.scene = slicer.mrmlScene
            self.colors = slicer.modules.colors.logic()
            self.volumes = slicer.modules.volumes.logic()
            self.segmentations = slicer.modules.segmentations.logic()
            return
        self.scene = slicer.vtkMRMLScene()
        self.application = slicer.vtkSlicerApplicationLogic()
        self.application.SetMRMLScene(self.scene)
        # The default colour nodes: Slicer gives a new label map its generic anatomy colours
        # until it is told to use another table.
        self.application.GetColorLogic().SetMRMLScene(self.scene)
        self.application.GetColorLogic().AddDefaultColorNodes()
        self.colors = slicer.vtkSlicerColorLogic()
        self.volumes = slicer.vtkSlicerVolumesLogic()
        self.segmentations = slicer.vtkSlicerSegmentationsModuleLogic()
        # The core libraries ship none of the application's colour files, and the Colors
        # logic logs an error when it finds none, the Volumes logic a warning when a label
        # map's default colours are missing: quiet Slicer's log while the logic is wired,
        # then keep its errors only.
        vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_OFF)
        for name, logic in (("Colors", self.colors), ("Volumes", self.volumes),
                            ("Segmentations", self.segmentations)):
            logic.SetMRMLApplicationLogic(self.application)
            logic.SetMRMLScene(self.scene)
            self.application.SetModuleLogic(name, logic)
        vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_ERROR)

    def load(self, scan_path, labels_path, colors_path):
        """Loads the three files; returns (scan node, label map node, colour node). Raises
        RuntimeError naming the file Slicer could not read."""
        color_node = self.colors.LoadColorFile(colors_path)
        if color_node is None:
            raise RuntimeError(f"3D Slicer could not read the colour table {colors_path}")
        scan = self.volumes.AddArchetypeVolume(scan_path, "scan", 0)
        if scan is None:
            raise RuntimeError(f"3D Slicer could not read the scan {scan_path}")
        label_map = self.volumes.AddArchetypeVolume(labels_path, "labels", 1)  # 1: as a label map
        if label_map is None or not label_map.IsA("vtkMRMLLabelMapVolumeNode"):
            raise RuntimeError(f"3D Slicer could not read the label map {labels_path}")
        label_map.GetDisplayNode().SetAndObserveColorNodeID(color_node.GetID())
        if hasattr(slicer, "app"):
            slicer.util.setSliceViewerLayers(background=scan, label=label_map, fit=True)
        return scan, label_map, color_node

    def to_segmentation(self, label_map):
        """The label map as a segmentation, one segment per organ named and coloured by the
        colour table: what the Segment Editor edits."""
        segmentation = self.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "organs")
        if not self.segmentations.ImportLabelmapToSegmentationNode(label_map, segmentation):
            raise RuntimeError("3D Slicer could not turn the label map into segments")
        return segmentation


def organ_table(label_map):
    """(label value, colour name, voxels, mm3) for every value the label map holds, named by
    the colour node its display node uses, as Slicer's data probe shows them."""
    values = vtk_to_numpy(label_map.GetImageData().GetPointData().GetScalars()).astype(np.int64)
    counts = np.bincount(values.ravel())
    voxel_mm3 = float(np.prod(label_map.GetSpacing()))
    color_node = label_map.GetDisplayNode().GetColorNode()
    return [(value, color_node.GetColorName(value), int(count), count * voxel_mm3)
            for value, count in enumerate(counts) if count > 0]


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    session = SlicerScene()
    try:
        _, label_map, color_node = session.load(*argv[1:])
        segments = session.to_segmentation(label_map).GetSegmentation()
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"# colour table: {color_node.GetName()}, {color_node.GetNumberOfColors()} colours")
    print(f"# segmentation 'organs': {segments.GetNumberOfSegments()} segments")
    table = csv.writer(sys.stdout, lineterminator="\n")
    table.writerow(["label", "name", "voxels", "volume_mm3"])
    for value, name, voxels, mm3 in organ_table(label_map):
        table.writerow([value, name, voxels, f"{mm3:.6f}"])
    return 0


if __name__ == "__main__":
    status = main(sys.argv)
    if not hasattr(slicer, "app"):  # inside the application the scene stays open for viewing
        sys.exit(status)
