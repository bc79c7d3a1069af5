import AimosCore

/// The preview picture, like Figure 3 of the AIMOS paper: left, the mean-intensity projection
/// of the whole scan along the slice axis with each organ's projected outline filled
/// semi-transparently in its colour; right, the slice that shows the most organs, with the
/// organ overlays; then a legend of organ names, colours and volumes. The intensity window is
/// chosen from percentiles (1 % to 99 %), so CT and light-sheet scans both look right.
/// Orientation: with the scan's anatomical layout known (detected or given), a coronal view
/// with the head up and the animal's right on the picture's left, as an atlas shows a mouse from
/// its belly, whatever the voxel order. Without one (--orientation none), as a viewer shows the
/// slice axis: the row axis with its world coordinate increasing upwards, the world x axis
/// radiologically (+x on the left).
package enum PreviewRenderer {
    static let panelHeight = 420
    static let margin = 16
    static let textScale = 2
    static let fillAlpha = 0.35

    package static func render(scan: ScanImage, labels: UnsafePointer<UInt8>, classes: [String], axis: Int,
                              layout: AnatomicalOrientation? = nil, volumesML: [Double]) -> RGBImage {
        let geometry: SliceGeometry
        if let layout = layout {
            let (head, left, back) = (layout.axis(onLine: 0), layout.axis(onLine: 1), layout.axis(onLine: 2))
            // Row 0 the most headward voxel, column 0 the animal's rightmost, slice 0 the most ventral.
            geometry = SliceGeometry(dims: scan.dims, sliceAxis: back.axis, sliceFlipped: !back.positive,
                                     rowAxis: head.axis, rowFlipped: head.positive,
                                     colAxis: left.axis, colFlipped: !left.positive, box: VoxelBox(dims: scan.dims))
        } else {
            geometry = SliceGeometry(dims: scan.dims, axis: axis)
        }
        let (rowAxis, colAxis) = (geometry.rowAxis, geometry.colAxis)
        let pixels = geometry.pixelsPerSlice
        var projection = [Double](repeating: 0, count: pixels)
        var projected = [Bool](repeating: false, count: classes.count * pixels)
        var organsInSlice = [Set<UInt8>](repeating: [], count: geometry.sliceCount)
        var labelledInSlice = [Int](repeating: 0, count: geometry.sliceCount)
        for s in 0..<geometry.sliceCount {
            for r in 0..<geometry.rows {
                for c in 0..<geometry.cols {
                    let v = geometry.voxelIndex(slice: s, row: r, col: c)
                    let p = r * geometry.cols + c
                    projection[p] += scan.intensity(at: v)
                    let label = labels[v]
                    if label > 0, Int(label) < classes.count {
                        projected[Int(label) * pixels + p] = true
                        organsInSlice[s].insert(label)
                        labelledInSlice[s] += 1
                    }
                }
            }
        }
        for p in 0..<pixels { projection[p] /= Double(geometry.sliceCount) }
        let best = (0..<geometry.sliceCount).max {
            (organsInSlice[$0].count, labelledInSlice[$0]) < (organsInSlice[$1].count, labelledInSlice[$1])
        } ?? 0
        var slice = [Double](repeating: 0, count: pixels)
        var sliceLabels = [UInt8](repeating: 0, count: pixels)
        for r in 0..<geometry.rows {
            for c in 0..<geometry.cols {
                let v = geometry.voxelIndex(slice: best, row: r, col: c)
                slice[r * geometry.cols + c] = scan.intensity(at: v)
                sliceLabels[r * geometry.cols + c] = labels[v] < classes.count ? labels[v] : 0
            }
        }
        let colors = OrganPalette.colors(for: classes)
        // Larger organs first, so small ones stay visible on top.
        let area = (0..<classes.count).map { c in projected[(c * pixels)..<((c + 1) * pixels)].filter { $0 }.count }
        let order = (1..<classes.count).sorted { area[$0] > area[$1] }
        let colDirection = scan.worldDirection(axis: colAxis)
        let panels = PanelLayout(rows: geometry.rows, cols: geometry.cols,
                                 rowSpacing: scan.spacing[rowAxis], colSpacing: scan.spacing[colAxis],
                                 flipRows: layout == nil && scan.worldDirection(axis: rowAxis).sign > 0,
                                 flipCols: layout == nil && colDirection.dominant == 0 && colDirection.sign > 0)
        let left = panels.render(gray: projection, window: percentileWindow(projection), colors: colors) { p in
            order.compactMap { c in projected[c * pixels + p] ? c : nil }
        } outline: { p, q in
            order.filter { projected[$0 * pixels + p] != projected[$0 * pixels + q] && projected[$0 * pixels + p] }
        }
        let right = panels.render(gray: slice, window: percentileWindow(slice), colors: colors) { p in
            sliceLabels[p] > 0 ? [Int(sliceLabels[p])] : []
        } outline: { p, q in
            sliceLabels[p] > 0 && sliceLabels[p] != sliceLabels[q] ? [Int(sliceLabels[p])] : []
        }
        // Legend: the organs present, with colour and volume.
        let present = (1..<classes.count).filter { volumesML[$0] > 0 }
        let entries = present.map { "\(classes[$0]) \(fixed(volumesML[$0], 3)) ML" }
        let lineHeight = BitmapFont.height * textScale + 10
        let legendWidth = (entries.map { RGBImage.textWidth($0, scale: textScale) }.max() ?? 0) + 30
        let titleHeight = BitmapFont.height * textScale + 12
        let leftTitle = layout == nil ? "MEAN PROJECTION AXIS \(axis)" : "CORONAL MEAN PROJECTION"
        let rightTitle = (layout == nil ? "" : "CORONAL ") + "SLICE \(best) OF \(geometry.sliceCount)"
        // Each panel's column is as wide as its picture or its title, whichever is wider.
        let leftColumn = max(left.width, RGBImage.textWidth(leftTitle, scale: textScale))
        let rightColumn = max(right.width, RGBImage.textWidth(rightTitle, scale: textScale))
        let width = margin * 4 + leftColumn + rightColumn + legendWidth
        let height = margin * 2 + titleHeight + max(left.height, lineHeight * (present.count + 1))
        var image = RGBImage(width: width, height: height)
        let white = OrganPalette.RGB(r: 235, g: 235, b: 235)
        image.drawText(leftTitle, x: margin, y: margin, scale: textScale, color: white)
        image.drawText(rightTitle, x: margin * 2 + leftColumn, y: margin, scale: textScale, color: white)
        image.blit(left, x: margin, y: margin + titleHeight)
        image.blit(right, x: margin * 2 + leftColumn, y: margin + titleHeight)
        let legendX = margin * 3 + leftColumn + rightColumn
        image.drawText("ORGANS", x: legendX, y: margin, scale: textScale, color: white)
        for (k, c) in present.enumerated() {
            let y = margin + titleHeight + k * lineHeight
            image.fillRect(x: legendX, y: y, width: 16, height: BitmapFont.height * textScale, color: colors[c])
            image.drawText(entries[k], x: legendX + 24, y: y, scale: textScale, color: white)
        }
        return image
    }

    /// The 1st and 99th percentiles of the values (a sample of at most 200 000).
    static func percentileWindow(_ values: [Double]) -> (Double, Double) {
        let step = max(1, values.count / 200_000)
        let sample = stride(from: 0, to: values.count, by: step).map { values[$0] }.sorted()
        guard !sample.isEmpty else { return (0, 1) }
        let lo = sample[Int(Double(sample.count - 1) * 0.01)]
        let hi = sample[Int(Double(sample.count - 1) * 0.99)]
        return hi > lo ? (lo, hi) : (lo, lo + 1)
    }
}

/// How one panel maps the slice grid to display pixels, at the physical aspect ratio.
struct PanelLayout {
    let rows: Int, cols: Int
    let width: Int, height: Int
    let flipRows: Bool, flipCols: Bool

    init(rows: Int, cols: Int, rowSpacing: Double, colSpacing: Double, flipRows: Bool, flipCols: Bool) {
        self.rows = rows
        self.cols = cols
        self.flipRows = flipRows
        self.flipCols = flipCols
        height = PreviewRenderer.panelHeight
        let aspect = (Double(cols) * colSpacing) / (Double(rows) * rowSpacing)
        let wanted = aspect.isFinite ? Double(height) * aspect : Double(height)
        width = Int(min(1600, max(40, wanted.rounded())))
    }

    /// The grid pixel shown at display (x, y).
    func source(x: Int, y: Int) -> (Int, Int) {
        var r = y * rows / height, c = x * cols / width
        if flipRows { r = rows - 1 - r }
        if flipCols { c = cols - 1 - c }
        return (r, c)
    }

    /// Renders gray values windowed to 0...255, fills the classes `fill(p)` returns
    /// semi-transparently, and draws the classes `outline(p, neighbour)` returns as solid edges.
    func render(gray: [Double], window: (Double, Double), colors: [OrganPalette.RGB],
                fill: (Int) -> [Int], outline: (Int, Int) -> [Int]) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        let alpha = PreviewRenderer.fillAlpha
        for y in 0..<height {
            for x in 0..<width {
                let (r, c) = source(x: x, y: y)
                let p = r * cols + c
                let g = max(0, min(255, (gray[p] - window.0) / (window.1 - window.0) * 255))
                var rgb = (g, g, g)
                for k in fill(p) {
                    let o = colors[k]
                    rgb = (rgb.0 * (1 - alpha) + Double(o.r) * alpha, rgb.1 * (1 - alpha) + Double(o.g) * alpha,
                           rgb.2 * (1 - alpha) + Double(o.b) * alpha)
                }
                var edge: Int?
                for (dr, dc) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                    let rr = r + dr, cc = c + dc
                    let q = rr >= 0 && rr < rows && cc >= 0 && cc < cols ? rr * cols + cc : -1
                    if q < 0 {
                        if let k = fill(p).last { edge = k }
                    } else if let k = outline(p, q).last {
                        edge = k
                    }
                }
                if let k = edge {
                    image.set(x: x, y: y, colors[k])
                } else {
                    image.set(x: x, y: y, OrganPalette.RGB(r: UInt8(rgb.0), g: UInt8(rgb.1), b: UInt8(rgb.2)))
                }
            }
        }
        return image
    }
}
