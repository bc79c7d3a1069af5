// swift-tools-version:5.9
// aimos: whole-body mouse organ segmentation (AIMOS, Schoppe et al. 2020) as a
// Swift shared library with a stable C ABI (include/aimos.h).
import PackageDescription

let package = Package(
    name: "aimos",
    products: [
        // libaimos.so: the C ABI. The Swift runtime is linked in statically so that
        // a C program needs nothing Swift-specific (see AimosABI's linker settings).
        .library(name: "aimos", type: .dynamic, targets: ["AimosABI"]),
    ],
    targets: [
        // OpenBLAS's cblas interface, found through pkg-config (Debian: libopenblas-dev).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // The public header include/aimos.h, so the ABI layer is checked against it.
        .systemLibrary(name: "CAimosHeader", path: "Sources/CAimosHeader"),
        // The engine: model file, U-Net, resampling and the segmentation pipeline.
        .target(name: "AimosCore", dependencies: ["CBLAS"]),
        // The C ABI entry points (aimos_*), nothing else.
        .target(name: "AimosABI", dependencies: ["AimosCore", "CAimosHeader"],
                exclude: ["exports.map"],
                linkerSettings: [.unsafeFlags(["-static-stdlib",
                                               "-Xlinker", "-soname=libaimos.so.0",
                                               "-Xlinker", "--version-script=Sources/AimosABI/exports.map"])]),
        .testTarget(name: "AimosCoreTests", dependencies: ["AimosCore"],
                    resources: [.copy("Fixtures")]),
    ]
)
