/// Nearest-neighbour resampling exactly as scipy.ndimage.zoom(order=0) with its defaults
/// (grid_mode=False, mode="constant", cval=0), which the published AIMOS segmentStudy uses to
/// bring the label map back to the scan grid: output index k reads input index
/// floor(k * (in - 1) / (out - 1) + 0.5), the zoom factor taken as 1 when out == 1.
/// scipy's quirk is kept: where k * zoom rounds to just beyond in - 1 (e.g. 269 * (255 / 269)
/// = 255.00000000000003) the point counts as outside and gets cval, i.e. background.
enum NearestZoom {
    /// Source index per output index; nil where scipy would write cval.
    static func sourceIndices(inSize: Int, outSize: Int) -> [Int?] {
        let zoom = outSize > 1 ? Double(inSize - 1) / Double(outSize - 1) : 1.0
        return (0..<outSize).map { k in
            let coordinate = Double(k) * zoom
            guard coordinate >= 0, coordinate <= Double(inSize - 1) else { return nil }
            return Int((coordinate + 0.5).rounded(.down))
        }
    }
}
