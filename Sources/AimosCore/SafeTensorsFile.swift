/// A parsed safetensors file: 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data.
/// Every offset and size is checked before any byte is read.
package struct SafeTensorsFile {
    package struct TensorInfo {
        package let name: String
        package let dtype: String
        package let shape: [Int]
        let byteRange: Range<Int>   // within `data`
    }

    package let tensors: [String: TensorInfo]
    /// Tensor names in header order (for deterministic error messages).
    package let tensorNames: [String]
    /// The `__metadata__` string map (empty when absent).
    package let metadata: [String: String]
    let data: [UInt8]
    let dataStart: Int

    static let maxHeaderBytes = 100 << 20

    package static func elementSize(of dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": return 1
        default: return nil
        }
    }

    package init(path: String) throws {
        try self.init(bytes: FileBytes.read(path: path), origin: "'\(path)'")
    }

    package init(bytes: [UInt8], origin: String = "model file") throws {
        guard bytes.count >= 8 else {
            throw AimosError.format("\(origin) is not a safetensors file: \(bytes.count) bytes, shorter than its 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(min(SafeTensorsFile.maxHeaderBytes, bytes.count - 8)) else {
            throw AimosError.format("\(origin) is not a safetensors file: header length \(headerLength) exceeds the file (\(bytes.count) bytes)")
        }
        let headerEnd = 8 + Int(headerLength)
        let header: JSONValue
        do {
            header = try JSONValue.parse(bytes[8..<headerEnd])
        } catch let e as AimosError {
            throw AimosError.format("\(origin): safetensors header: \(e.message)")
        }
        guard let members = header.objectValue else {
            throw AimosError.format("\(origin): safetensors header is not a JSON object")
        }
        let dataLength = bytes.count - headerEnd
        var tensors: [String: TensorInfo] = [:]
        var names: [String] = []
        var metadata: [String: String] = [:]
        for (name, entry) in members {
            if name == "__metadata__" {
                guard let map = entry.objectValue else {
                    throw AimosError.format("\(origin): __metadata__ is not an object")
                }
                for (key, value) in map {
                    guard let s = value.stringValue else {
                        throw AimosError.format("\(origin): __metadata__ value '\(key)' is not a string")
                    }
                    metadata[key] = s
                }
                continue
            }
            guard tensors[name] == nil else { throw AimosError.format("\(origin): tensor '\(name)' appears twice") }
            guard let dtype = entry["dtype"]?.stringValue,
                  let shapeValues = entry["shape"]?.arrayValue,
                  let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
                  let begin = offsets[0].int64Value, let end = offsets[1].int64Value else {
                throw AimosError.format("\(origin): tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let elementSize = SafeTensorsFile.elementSize(of: dtype) else {
                throw AimosError(.unsupported, "\(origin): tensor '\(name)' has unknown dtype '\(dtype)'")
            }
            var shape: [Int] = []
            var count = 1
            for v in shapeValues {
                guard let d = v.int64Value, d >= 0, d <= Int64(Int32.max) else {
                    throw AimosError.format("\(origin): tensor '\(name)' has an invalid shape")
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
                guard !overflow else { throw AimosError.format("\(origin): tensor '\(name)' shape overflows") }
                count = product
                shape.append(Int(d))
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementSize)
            guard !overflow, begin >= 0, end >= begin, end <= Int64(dataLength),
                  Int(end - begin) == byteCount else {
                throw AimosError.format("\(origin): tensor '\(name)' data_offsets [\(begin), \(end)] do not fit its shape \(shape) of \(dtype) within \(dataLength) data bytes")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape,
                                       byteRange: Int(begin)..<Int(end))
            names.append(name)
        }
        // Tensors may not share bytes (safetensors lays them out one after another).
        let ranges = tensors.values.map(\.byteRange).filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        for (previous, next) in zip(ranges, ranges.dropFirst()) where next.lowerBound < previous.upperBound {
            let a = tensors.values.first { $0.byteRange == previous }!.name, b = tensors.values.first { $0.byteRange == next }!.name
            throw AimosError.format("\(origin): tensors '\(a)' and '\(b)' overlap (data_offsets \(previous.lowerBound)..<\(previous.upperBound) and \(next.lowerBound)..<\(next.upperBound))")
        }
        self.tensors = tensors
        self.tensorNames = names
        self.metadata = metadata
        self.data = bytes
        self.dataStart = headerEnd
    }

    /// A floating-point tensor's values as Float (F32, F16 and BF16 accepted).
    package func floats(_ info: TensorInfo) throws -> [Float] {
        let count = info.byteRange.count / (SafeTensorsFile.elementSize(of: info.dtype) ?? 1)
        let base = dataStart + info.byteRange.lowerBound
        return try data.withUnsafeBytes { raw -> [Float] in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[base..<base + info.byteRange.count])
            switch info.dtype {
            case "F32":
                return (0..<count).map { Float(bitPattern: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
            case "F16":
                return (0..<count).map { HalfFloat.toFloat(bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self).littleEndian) }
            case "BF16":
                return (0..<count).map { Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self).littleEndian) << 16) }
            default:
                throw AimosError(.unsupported, "tensor '\(info.name)' has dtype \(info.dtype); a weight must be F32, F16 or BF16")
            }
        }
    }
}

/// IEEE 754 binary16 to binary32, exact for every value (subnormals, infinities, NaN).
enum HalfFloat {
    static func toFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        if exponent == 0 {
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}

extension SafeTensorsFile {
    /// The raw little-endian bytes of a tensor (for integer tensors and tests).
    package func rawBytes(_ info: TensorInfo) -> ArraySlice<UInt8> {
        data[(dataStart + info.byteRange.lowerBound)..<(dataStart + info.byteRange.upperBound)]
    }
}
