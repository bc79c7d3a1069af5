/// Bilinear resampling with align_corners = true, as PyTorch's
/// F.interpolate(mode="bilinear", align_corners=True): source = destination * (in - 1) / (out - 1),
/// computed in Float like PyTorch's CPU kernel. Used for the decoder's upsampling and to bring
/// probability maps back to the scan grid.
enum BilinearAlignCorners {
    /// Per-axis source indices and weights.
    struct AxisWeights {
        var lower: [Int32]
        var upper: [Int32]
        var upperWeight: [Float]

        init(inSize: Int, outSize: Int) {
            let scale: Float = outSize > 1 ? Float(inSize - 1) / Float(outSize - 1) : 0
            lower = []; upper = []; upperWeight = []
            lower.reserveCapacity(outSize); upper.reserveCapacity(outSize); upperWeight.reserveCapacity(outSize)
            for o in 0..<outSize {
                let source = scale * Float(o)
                let i0 = min(Int(source), inSize - 1)
                lower.append(Int32(i0))
                upper.append(Int32(i0 < inSize - 1 ? i0 + 1 : i0))
                upperWeight.append(source - Float(i0))
            }
        }
    }

    /// Resamples `channels` planes of inHeight x inWidth into outHeight x outWidth.
    static func run(input: UnsafePointer<Float>, inHeight: Int, inWidth: Int,
                    output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int, channels: Int) {
        let rowsW = AxisWeights(inSize: inHeight, outSize: outHeight)
        let colsW = AxisWeights(inSize: inWidth, outSize: outWidth)
        for c in 0..<channels {
            let src = input + c * inHeight * inWidth
            let dst = output + c * outHeight * outWidth
            for y in 0..<outHeight {
                let h1 = rowsW.upperWeight[y], h0 = 1 - h1
                let top = src + Int(rowsW.lower[y]) * inWidth
                let bottom = src + Int(rowsW.upper[y]) * inWidth
                let line = dst + y * outWidth
                for x in 0..<outWidth {
                    let w1 = colsW.upperWeight[x], w0 = 1 - w1
                    let l = Int(colsW.lower[x]), u = Int(colsW.upper[x])
                    line[x] = h0 * (w0 * top[l] + w1 * top[u]) + h1 * (w0 * bottom[l] + w1 * bottom[u])
                }
            }
        }
    }
}
