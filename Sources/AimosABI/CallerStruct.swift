/// The structs a caller fills or sizes (aimos_options, aimos_volume, aimos_layout,
/// aimos_organ_metrics) start with struct_size, and a later version only appends fields. So the
/// library reads or writes only the first struct_size bytes (at most its own size): an older
/// caller's struct is shorter, a newer caller's longer, and both work.
enum CallerStruct {
    /// `defaults` with its first `size` bytes (at most its own size) taken from `pointer`: the
    /// fields the caller's struct covers are the caller's, the others keep their defaults.
    static func read<T>(_ pointer: UnsafeRawPointer, size: Int, over defaults: T) -> T {
        var value = defaults
        withUnsafeMutableBytes(of: &value) { bytes in
            bytes.baseAddress!.copyMemory(from: pointer, byteCount: min(size, bytes.count))
        }
        return value
    }

    /// Writes the first `size` bytes (at most its own size) of `value` to `pointer`.
    static func write<T>(_ value: T, to pointer: UnsafeMutableRawPointer, size: Int) {
        withUnsafeBytes(of: value) { bytes in
            pointer.copyMemory(from: bytes.baseAddress!, byteCount: min(size, bytes.count))
        }
    }

    /// Whether a caller's struct of `size` bytes holds the field at `path`.
    static func covers<Root, T>(_ size: Int, _ path: KeyPath<Root, T>) -> Bool {
        MemoryLayout<Root>.offset(of: path)! + MemoryLayout<T>.size <= size
    }

    /// The size of a struct in the version that introduced it: its fields up to and including `last`.
    static func size<Root, T>(upTo last: KeyPath<Root, T>) -> Int {
        MemoryLayout<Root>.offset(of: last)! + MemoryLayout<T>.size
    }
}
