#if !AIMOS_FUZZ
#if canImport(Glibc)
import Glibc
#endif
import AimosCore

/// Without the fuzzer: replays files through a target, so the seed corpora (and any crash
/// found) run in every normal build as regression tests.
///   aimos-fuzz <model|metadata|nifti|dicom|tiff> <file or directory>...
@main
struct FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count >= 2 else {
            print("usage: aimos-fuzz <\(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))> <file or directory>...")
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            for file in files(at: path) {
                guard let bytes = try? FileBytes.read(path: file) else { print("cannot read \(file)"); exit(1) }
                target.run(bytes)
                count += 1
            }
        }
        print("\(target.rawValue): \(count) inputs replayed, none crashed")
    }

    /// A file, or the regular files of a directory (sorted).
    static func files(at path: String) -> [String] {
        guard let dir = opendir(path) else { return [path] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if !name.hasPrefix(".") { names.append(path + "/" + name) }
        }
        return names.sorted()
    }
}
#endif
