/// The six published AIMOS U-Nets (OSchoppe/AIMOS code/utils/architecture.py): encoder widths
/// 32, 64, then +128, +256, +512 and 768 or 1024 as the last level; the centre block keeps the
/// last width; each decoder outputs the width of the encoder one level up (32 at the top).
package struct UNetArchitecture: Equatable {
    package let name: String
    /// Output width of each encoder level, top (full resolution) first.
    package let encoderWidths: [Int]

    package static let all: [UNetArchitecture] = [
        UNetArchitecture(name: "Unet64", encoderWidths: [32, 64]),
        UNetArchitecture(name: "Unet128", encoderWidths: [32, 64, 128]),
        UNetArchitecture(name: "Unet256", encoderWidths: [32, 64, 128, 256]),
        UNetArchitecture(name: "Unet512", encoderWidths: [32, 64, 128, 256, 512]),
        UNetArchitecture(name: "Unet768", encoderWidths: [32, 64, 128, 256, 512, 768]),
        UNetArchitecture(name: "Unet1024", encoderWidths: [32, 64, 128, 256, 512, 1024]),
    ]

    /// Looks an architecture up by name, case-insensitively ("Unet768", "UNet768").
    package static func named(_ name: String) -> UNetArchitecture? {
        all.first { $0.name.lowercased() == name.lowercased() }
    }

    package var levels: Int { encoderWidths.count }

    /// One conv3x3 + BatchNorm + ReLU of the network, by its state_dict prefix.
    package struct ConvBlock {
        package let prefix: String       // e.g. "down1.encode.0"
        package let inChannels: Int
        package let outChannels: Int
    }

    /// Encoder level `level` (0-based): the two convolutions of `down{level+1}`.
    package func encoderBlocks(level: Int) -> [ConvBlock] {
        let input = level == 0 ? 1 : encoderWidths[level - 1]
        let width = encoderWidths[level]
        return [ConvBlock(prefix: "down\(level + 1).encode.0", inChannels: input, outChannels: width),
                ConvBlock(prefix: "down\(level + 1).encode.1", inChannels: width, outChannels: width)]
    }

    package var centerBlock: ConvBlock {
        let width = encoderWidths[levels - 1]
        return ConvBlock(prefix: "center", inChannels: width, outChannels: width)
    }

    /// Decoder level `level`: the three convolutions of `up{level+1}`; its input is the
    /// concatenation [upsampled from below, skip], both of the encoder width at this level.
    package func decoderBlocks(level: Int) -> [ConvBlock] {
        let width = encoderWidths[level]
        let output = decoderOutputWidth(level: level)
        return [ConvBlock(prefix: "up\(level + 1).decode.0", inChannels: 2 * width, outChannels: output),
                ConvBlock(prefix: "up\(level + 1).decode.1", inChannels: output, outChannels: output),
                ConvBlock(prefix: "up\(level + 1).decode.2", inChannels: output, outChannels: output)]
    }

    package func decoderOutputWidth(level: Int) -> Int {
        level == 0 ? 32 : encoderWidths[level - 1]
    }

    /// Every conv block in forward order.
    package var allBlocks: [ConvBlock] {
        (0..<levels).flatMap { encoderBlocks(level: $0) } + [centerBlock]
            + (0..<levels).reversed().flatMap { decoderBlocks(level: $0) }
    }

    /// Parameters of one network (weights, BatchNorm affine and statistics, classifier).
    package func parameterCount(outputChannels: Int) -> Int {
        allBlocks.reduce(0) { $0 + $1.outChannels * $1.inChannels * 9 + 4 * $1.outChannels }
            + outputChannels * 32 + outputChannels
    }

    /// The side of each level at `inputSize` (each max-pool halves it, rounding down), then the
    /// centre's.
    package func levelSizes(inputSize: Int) -> [Int] {
        var sizes = [inputSize]
        for _ in 0..<levels { sizes.append(sizes.last! / 2) }
        return sizes
    }

    /// Multiply-accumulates of one forward pass at `inputSize` (the convolutions and the
    /// classifier; an operation count of 2 per multiply-accumulate gives FLOPs).
    package func multiplyAccumulates(inputSize: Int, outputChannels: Int) -> Int {
        let sizes = levelSizes(inputSize: inputSize)
        var total = 32 * outputChannels * inputSize * inputSize
        for level in 0..<levels {
            let pixels = sizes[level] * sizes[level]
            for b in encoderBlocks(level: level) + decoderBlocks(level: level) { total += b.inChannels * b.outChannels * 9 * pixels }
        }
        let c = centerBlock
        return total + c.inChannels * c.outChannels * 9 * sizes[levels] * sizes[levels]
    }
}
