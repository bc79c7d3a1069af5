extension SliceGeometry {
    /// Cuts `box` of a scan laid out as `scan` into slices laid out as `model` (its rows,
    /// columns and slice index): each model direction is read along the scan axis on the same
    /// anatomical line, reversed where the two letters differ.
    package init(dims: [Int], scan: AnatomicalOrientation, model: AnatomicalOrientation, box: VoxelBox) {
        func source(_ role: Int) -> (axis: Int, flipped: Bool) {
            let entry = AnatomicalOrientation.letters[model.code[role]]!
            let found = scan.axis(onLine: entry.line)
            return (found.axis, found.positive != entry.positive)
        }
        let (row, col, slice) = (source(0), source(1), source(2))
        self.init(dims: dims, sliceAxis: slice.axis, sliceFlipped: slice.flipped, rowAxis: row.axis, rowFlipped: row.flipped,
                  colAxis: col.axis, colFlipped: col.flipped, box: box)
    }
}
