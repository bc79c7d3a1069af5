/// Resizes a float image exactly as Pillow's Image.resize(size, Image.BILINEAR) does for mode
/// "F" (libImaging/Resample.c): a separable triangle filter whose support widens by the scale
/// when downscaling, weights in double and normalised per output pixel, the horizontal pass
/// first (rounded to float32), then the vertical pass; a pass whose size does not change is
/// skipped.
struct PillowBilinearResize {
    /// Per-axis filter taps: for each output index, the first input index, the tap count, and
    /// `ksize` weights.
    struct AxisCoefficients {
        let first: [Int]
        let count: [Int]
        let weights: [Double]
        let ksize: Int

        init(inSize: Int, outSize: Int) {
            let scale = Double(Float(inSize)) / Double(outSize)
            let filterScale = max(scale, 1.0)
            let support = 1.0 * filterScale
            ksize = Int(support.rounded(.up)) * 2 + 1
            var first = [Int](repeating: 0, count: outSize)
            var count = [Int](repeating: 0, count: outSize)
            var weights = [Double](repeating: 0, count: outSize * ksize)
            for xx in 0..<outSize {
                let center = (Double(xx) + 0.5) * scale
                let ss = 1.0 / filterScale
                // (int) casts in C truncate toward zero.
                let xmin = max(0, Int((center - support + 0.5).rounded(.towardZero)))
                let xmax = min(inSize, Int((center + support + 0.5).rounded(.towardZero))) - xmin
                var total = 0.0
                for x in 0..<max(xmax, 0) {
                    var t = (Double(x + xmin) - center + 0.5) * ss
                    if t < 0 { t = -t }
                    let w = t < 1 ? 1 - t : 0
                    weights[xx * ksize + x] = w
                    total += w
                }
                if total != 0 {
                    for x in 0..<max(xmax, 0) { weights[xx * ksize + x] /= total }
                }
                first[xx] = xmin
                count[xx] = max(xmax, 0)
            }
            self.first = first
            self.count = count
            self.weights = weights
        }
    }

    let inRows: Int, inCols: Int, outRows: Int, outCols: Int
    let horizontal: AxisCoefficients
    let vertical: AxisCoefficients
    let needHorizontal: Bool, needVertical: Bool
    /// Source rows the vertical pass reads: the horizontal pass computes only these.
    let firstSourceRow: Int, sourceRowCount: Int

    init(inRows: Int, inCols: Int, outRows: Int, outCols: Int) {
        self.inRows = inRows; self.inCols = inCols; self.outRows = outRows; self.outCols = outCols
        horizontal = AxisCoefficients(inSize: inCols, outSize: outCols)
        vertical = AxisCoefficients(inSize: inRows, outSize: outRows)
        needHorizontal = inCols != outCols
        needVertical = inRows != outRows
        firstSourceRow = vertical.first[0]
        sourceRowCount = vertical.first[outRows - 1] + vertical.count[outRows - 1] - firstSourceRow
    }

    /// Floats of scratch that `run` needs.
    var scratchCount: Int { sourceRowCount * outCols }

    /// Resizes `input` (inRows x inCols) into `output` (outRows x outCols).
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        if !needHorizontal && !needVertical {
            output.update(from: input, count: outRows * outCols)
            return
        }
        var source = input
        var rowOffset = 0
        if needHorizontal {
            let target = needVertical ? scratch : output
            let firstRow = needVertical ? firstSourceRow : 0
            let rows = needVertical ? sourceRowCount : inRows
            horizontal.weights.withUnsafeBufferPointer { k in
                for y in 0..<rows {
                    let line = input + (y + firstRow) * inCols
                    for xx in 0..<outCols {
                        var sum = 0.0
                        let start = horizontal.first[xx], taps = k.baseAddress! + xx * horizontal.ksize
                        for x in 0..<horizontal.count[xx] { sum += Double(line[start + x]) * taps[x] }
                        target[y * outCols + xx] = Float(sum)
                    }
                }
            }
            guard needVertical else { return }
            source = UnsafePointer(scratch)
            rowOffset = firstSourceRow
        }
        vertical.weights.withUnsafeBufferPointer { k in
            for yy in 0..<outRows {
                let start = vertical.first[yy] - rowOffset, taps = k.baseAddress! + yy * vertical.ksize
                for xx in 0..<outCols {
                    var sum = 0.0
                    for y in 0..<vertical.count[yy] { sum += Double(source[(start + y) * outCols + xx]) * taps[y] }
                    output[yy * outCols + xx] = Float(sum)
                }
            }
        }
    }
}
