#if AIMOS_FUZZ
#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer's entry point (built with `--sanitize=fuzzer`, see Tests/fuzz/run.sh). The target
/// comes from AIMOS_FUZZ_TARGET (model, metadata, nifti, dicom or tiff): one binary serves all five.
let fuzzTarget: FuzzTarget = {
    let name = getenv("AIMOS_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        fatalError("set AIMOS_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#endif
