// swift-tools-version:5.9
// aimos: whole-body mouse organ segmentation (AIMOS, Schoppe et al. 2020) as a
// Swift shared library with a stable C ABI (include/aimos.h) and the `aimos` command.
import PackageDescription

// libaimos.so links the Swift runtime statically (-static-stdlib on AimosABI, release builds), so
// it needs nothing Swift-specific at run time; the command gets it from --static-swift-stdlib.

let package = Package(
    name: "aimos",
    products: [
        // libaimos.so: the C ABI.
        .library(name: "aimos", type: .dynamic, targets: ["AimosABI"]),
        // The `aimos` command (SwiftPM cannot give two products one name: installed as bin/aimos).
        .executable(name: "aimos-cli", targets: ["AimosCommand"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS's cblas interface, found through pkg-config (Debian: libopenblas-dev).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // The public header include/aimos.h, so the ABI layer is checked against it.
        .systemLibrary(name: "CAimosHeader", path: "Sources/CAimosHeader"),
        // libnifti (Debian libnifti-dev) behind a small C header of our own.
        .target(name: "CNiftiBridge",
                cSettings: [.unsafeFlags(["-I/usr/include/nifti"])],
                linkerSettings: [.linkedLibrary("nifti2"), .linkedLibrary("znz"),
                                 .linkedLibrary("z"), .linkedLibrary("m")]),
        // GDCM (Debian libgdcm-dev) for DICOM series, behind a small C header of our own.
        .target(name: "CDicomBridge",
                cxxSettings: [.unsafeFlags(["-I/usr/include/gdcm-3.0"])],
                linkerSettings: [.linkedLibrary("gdcmMSFF"), .linkedLibrary("gdcmDSED"), .linkedLibrary("gdcmCommon"),
                                 .linkedLibrary("stdc++")]),
        // libtiff (Debian libtiff-dev) for light-sheet stacks, behind a small C header of our own.
        .target(name: "CTiffBridge", cSettings: [.unsafeFlags(["-O3"])], linkerSettings: [.linkedLibrary("tiff")]),
        // libjpeg (Debian libjpeg-dev) for the preview picture.
        .target(name: "CJpegBridge", linkerSettings: [.linkedLibrary("jpeg")]),
        // aimos's own CPU kernels (C: one source compiled per instruction set, picked at run time).
        .target(name: "CAimosKernels", exclude: [],
                cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        // The engine: model file, U-Net, resampling and the segmentation of a volume.
        .target(name: "AimosCore", dependencies: ["CBLAS", "CAimosKernels"]),
        // Files around the engine: NIfTI in and out, organ table, preview, label descriptions.
        .target(name: "AimosPipeline", dependencies: ["AimosCore", "CNiftiBridge", "CDicomBridge", "CJpegBridge", "CTiffBridge"]),
        // The C ABI entry points (aimos_*), nothing else.
        .target(name: "AimosABI", dependencies: ["AimosCore", "AimosPipeline", "CAimosHeader"],
                exclude: ["exports.map"],
                // Release only: the shipped libaimos.so. A debug build (swift test, the sanitizer
                // builds) links the ABI into the test bundle, which needs the Swift runtime shared
                // and the Swift symbols visible.
                linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release)),
                                 .unsafeFlags(["-Xlinker", "-soname=libaimos.so.0",
                                               "-Xlinker", "--version-script=Sources/AimosABI/exports.map"],
                                              .when(configuration: .release))]),
        // The `aimos` command.
        .executableTarget(name: "AimosCommand",
                          dependencies: ["AimosCore", "AimosPipeline",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The fuzz harnesses (Tests/fuzz): a corpus replayer in a normal build; libFuzzer
        // harnesses with `--sanitize=fuzzer -Xswiftc -DAIMOS_FUZZ` (Tests/fuzz/run.sh).
        .executableTarget(name: "aimos-fuzz", dependencies: ["AimosCore", "AimosPipeline"],
                          path: "Tests/fuzz/Sources"),
        .testTarget(name: "AimosCoreTests", dependencies: ["AimosCore"],
                    resources: [.copy("Fixtures")]),
        // The C ABI under threads (also run under ASan and TSan: Tests/sanitizers/run.sh).
        .testTarget(name: "AimosABITests", dependencies: ["AimosABI", "CAimosHeader"]),
        .testTarget(name: "AimosPipelineTests", dependencies: ["AimosPipeline", "AimosCore", "CNiftiBridge", "CTiffBridge"],
                    resources: [.copy("Fixtures")]),
    ],
    cxxLanguageStandard: .cxx17
)
