import CBLAS

/// The reference backend's convolution: 3x3 (padding 1) or 1x1 convolutions as im2col + OpenBLAS sgemm.
/// The im2col matrix is built a band of output rows at a time so its buffer stays small
/// (bounded by `columnCapacity`) whatever the layer width.
enum ReferenceConv2D {
    /// Runs `layer` on `input` ([inChannels][height][width]) into `output`
    /// ([outChannels][height][width]); `columns` is scratch of `columnCapacity` floats.
    static func run(_ layer: ConvLayer, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    height: Int, width: Int, columns: UnsafeMutablePointer<Float>, columnCapacity: Int) {
        let pixels = height * width
        let m = Int32(layer.outChannels)
        // Start from the bias; sgemm then accumulates (beta = 1).
        layer.bias.withUnsafeBufferPointer { bias in
            for o in 0..<layer.outChannels {
                (output + o * pixels).update(repeating: bias[o], count: pixels)
            }
        }
        layer.weights.withUnsafeBufferPointer { weights in
            if layer.kernelSize == 1 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, Int32(pixels), Int32(layer.inChannels),
                            1, weights.baseAddress, Int32(layer.inChannels), input, Int32(pixels), 1, output, Int32(pixels))
                return
            }
            let k = layer.inChannels * 9
            let bandRows = max(1, min(height, columnCapacity / (k * width)))
            var row0 = 0
            while row0 < height {
                let rows = min(bandRows, height - row0)
                let n = rows * width
                im2col3x3(input: input, channels: layer.inChannels, height: height, width: width,
                          firstRow: row0, rows: rows, columns: columns)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, Int32(n), Int32(k),
                            1, weights.baseAddress, Int32(k), columns, Int32(n), 1, output + row0 * width, Int32(pixels))
                row0 += rows
            }
        }
        if layer.relu {
            for i in 0..<(layer.outChannels * pixels) where output[i] < 0 { output[i] = 0 }
        }
    }

    /// Column matrix [channels * 9][rows * width] for output rows firstRow ..< firstRow + rows,
    /// zero padding of one pixel on every side.
    static func im2col3x3(input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                          firstRow: Int, rows: Int, columns: UnsafeMutablePointer<Float>) {
        let n = rows * width
        for c in 0..<channels {
            let plane = input + c * height * width
            for ky in 0..<3 {
                for kx in 0..<3 {
                    let dst = columns + ((c * 3 + ky) * 3 + kx) * n
                    let dx = kx - 1
                    for r in 0..<rows {
                        let y = firstRow + r + ky - 1
                        let line = dst + r * width
                        guard y >= 0 && y < height else {
                            line.update(repeating: 0, count: width)
                            continue
                        }
                        let src = plane + y * width
                        if dx == 0 {
                            line.update(from: src, count: width)
                        } else if dx < 0 {
                            line[0] = 0
                            (line + 1).update(from: src, count: width - 1)
                        } else {
                            line.update(from: src + 1, count: width - 1)
                            line[width - 1] = 0
                        }
                    }
                }
            }
        }
    }
}
