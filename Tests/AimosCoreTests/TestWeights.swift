import Foundation
@testable import AimosCore

/// The deterministic test weights of Tools/aimostools/unet/test_weights.py, bit for bit, and a
/// safetensors writer, so the large fixture models are rebuilt here instead of committed.
enum TestWeights {
    static func fnv1a32(_ text: String) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for byte in text.utf8 { h = (h ^ UInt32(byte)) &* 0x0100_0193 }
        return h
    }

    static func uniform(_ name: String, _ count: Int) -> [Double] {
        let seed = fnv1a32(name)
        return (0..<count).map { i in
            var x = UInt32(truncatingIfNeeded: i) &* 0x9E37_79B1 &+ seed
            x ^= x >> 16
            x = x &* 0x85EB_CA6B
            x ^= x >> 13
            x = x &* 0xC2B2_AE35
            x ^= x >> 16
            return Double(x) / 4_294_967_296.0
        }
    }

    static func tensor(_ name: String, shape: [Int]) -> [Float] {
        let u = uniform(name, shape.reduce(1, *))
        if name.hasSuffix("conv.weight") || name.hasSuffix("classify.weight") {
            let bound = (6.0 / Double(shape.dropFirst().reduce(1, *))).squareRoot()
            return u.map { Float((2.0 * $0 - 1.0) * bound) }
        }
        if name.hasSuffix("running_var") || name.hasSuffix("bn.weight") { return u.map { Float(0.5 + $0) } }
        return u.map { Float(($0 - 0.5) * 0.2) }
    }

    /// Every state_dict key of one network with its shape, in forward order.
    static func shapes(_ architecture: UNetArchitecture, outputChannels: Int) -> [(String, [Int])] {
        var result: [(String, [Int])] = []
        for b in architecture.allBlocks {
            result.append(("\(b.prefix).conv.weight", [b.outChannels, b.inChannels, 3, 3]))
            for leaf in ["weight", "bias", "running_mean", "running_var"] {
                result.append(("\(b.prefix).bn.\(leaf)", [b.outChannels]))
            }
        }
        result.append(("classify.weight", [outputChannels, 32, 1, 1]))
        result.append(("classify.bias", [outputChannels]))
        return result
    }

    /// A safetensors file of F32 tensors.
    static func safetensors(_ tensors: [(String, [Int], [Float])], metadata: [String: String]) -> [UInt8] {
        var header: [String] = []
        if !metadata.isEmpty {
            let entries = metadata.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            header.append("\"__metadata__\":{\(entries.joined(separator: ","))}")
        }
        var data: [UInt8] = []
        for (name, shape, values) in tensors {
            let begin = data.count
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            header.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(data.count)]}")
        }
        let json = Array("{\(header.joined(separator: ","))}".utf8)
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + data
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }

    /// The formula model of an architecture as a safetensors file (one member).
    static func modelFile(architecture: UNetArchitecture, metadataJSON: String, outputChannels: Int) -> [UInt8] {
        let tensors = shapes(architecture, outputChannels: outputChannels).map { ($0.0, $0.1, tensor($0.0, shape: $0.1)) }
        return safetensors(tensors, metadata: ["aimos": metadataJSON])
    }

    /// The Unet64 models that aimos-make-golden-fixtures writes as variants of one committed file
    /// (unet64_c3_s32_f32): the same weights at input size 256, and ensembles whose member m has
    /// its conv weights scaled by 1 + 0.1 m (in float32, as the tool does). Built here rather
    /// than committed (4.7 MB). nil for any other name.
    static let derivedBase = "unet64_c3_s32_f32.safetensors"

    static func derivedModel(_ name: String, base: SafeTensorsFile) throws -> [UInt8]? {
        let members: Int, inputSize: Int
        switch name {
        case "unet64_c3_s256_f32.safetensors": (members, inputSize) = (1, 256)
        case "unet64_c3_s32_f32_x2.safetensors": (members, inputSize) = (2, 32)
        case "unet64_c3_s32_f32_x3.safetensors": (members, inputSize) = (3, 32)
        default: return nil
        }
        let metadata = base.metadata["aimos"]!
            .replacingOccurrences(of: "\"input_size\": 32", with: "\"input_size\": \(inputSize)")
            .replacingOccurrences(of: "\"ensemble_members\": 1", with: "\"ensemble_members\": \(members)")
        var tensors: [(String, [Int], [Float])] = []
        for m in 0..<members {
            let scale = Float(1 + 0.1 * Double(m))
            for key in base.tensorNames where !key.hasSuffix("num_batches_tracked") {
                let info = base.tensors[key]!
                var values = try base.floats(info)
                if m > 0 && key.hasSuffix("conv.weight") { values = values.map { $0 * scale } }
                tensors.append((members > 1 ? "member\(m).\(key)" : key, info.shape, values))
            }
        }
        return safetensors(tensors, metadata: ["aimos": metadata, "format": "pt"])
    }
}
