// swift-tools-version:6.0
// Plumbline: aligning Llama-family models with human preferences, in Swift, on ordinary machines.
import Foundation
import PackageDescription

/// Release-mode optimisation flags shared by the numeric targets.
/// On x86_64 the release build also targets Haswell: without it swiftc emits SSE2 only and
/// `SIMD.addProduct` becomes calls to scalar `fmaf`; with it the 8-lane kernels use ymm registers
/// and vfmadd. This assumes AVX2 + FMA (Intel Haswell 2013+, AMD Zen and later); on an older x86
/// CPU the release binary stops with an illegal instruction. Debug builds keep the default target.
/// The targets that parse untrusted bytes (PlumbStore, PlumbData) keep Swift's bounds and overflow
/// checks (`-O`): a bug there traps instead of corrupting memory. The numeric targets drop them.
#if arch(x86_64)
let targetCPU = ["-wmo", "-target-cpu", "haswell"]
#else
let targetCPU = ["-wmo"]
#endif
let fastMath: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"] + targetCPU, .when(configuration: .release))]
#if arch(x86_64)
let avx512: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo", "-target-cpu", "skylake-avx512"], .when(configuration: .release))]
#else
let avx512: [SwiftSetting] = fastMath
#endif
let checkedParsing: [SwiftSetting] = [.unsafeFlags(["-O"] + targetCPU, .when(configuration: .release))]

let package = Package(
    name: "Plumbline",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "plumb", targets: ["plumb"]),
        .library(name: "PlumbTensor", targets: ["PlumbTensor"]),
        .library(name: "PlumbModel", targets: ["PlumbModel"]),
        .library(name: "PlumbStore", targets: ["PlumbStore"]),
        .library(name: "PlumbData", targets: ["PlumbData"]),
        .library(name: "PlumbStages", targets: ["PlumbStages"]),
        .library(name: "PlumbPipeline", targets: ["PlumbPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // Native bridges.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(
            name: "CSentencePiece",
            path: "Sources/CSentencePiece",
            cxxSettings: [.unsafeFlags(["-std=c++17"])],
            linkerSettings: [.linkedLibrary("sentencepiece"), .linkedLibrary("sentencepiece_train"), .linkedLibrary("stdc++")]
        ),

        // Libraries, split by concern (docs/ARCHITECTURE.md).
        .target(name: "PlumbFiles"),
        // The decoding kernel in sixteen-float vectors, built for AVX-512 alone; PlumbTensor calls it
        // only where /proc/cpuinfo has those flags.
        .target(name: "PlumbMatVecAVX512", swiftSettings: avx512),
        .target(name: "PlumbTensor", dependencies: ["CBLAS", "PlumbMatVecAVX512"], swiftSettings: fastMath),
        .target(name: "PlumbModel", dependencies: ["PlumbTensor", "PlumbFiles"], swiftSettings: fastMath),
        .target(name: "PlumbStore", dependencies: ["CZstd", "PlumbFiles"], swiftSettings: checkedParsing),
        .target(name: "PlumbData", dependencies: ["PlumbStore", "CSentencePiece", "CZstd", "CZlib"], swiftSettings: checkedParsing),
        .target(name: "PlumbTask", dependencies: []),
        .target(name: "PlumbOracle", dependencies: ["PlumbTask"]),
        .target(name: "PlumbMPI", dependencies: ["CMPI", "PlumbTensor"]),
        .target(name: "PlumbStages", dependencies: ["PlumbTensor", "PlumbModel", "PlumbStore", "PlumbData"], swiftSettings: fastMath),
        // The oracle's evaluation and the built-in task's stages: sees the judge, so no training target imports it.
        .target(name: "PlumbEval", dependencies: ["PlumbStages", "PlumbOracle", "PlumbTask", "PlumbData", "PlumbStore", "PlumbModel", "PlumbTensor"]),
        // Pipeline files decoded into stage values, planned and run; what it needs of the program (the
        // stage kinds, the oracle's environment, MPI start, progress) is handed in.
        .target(name: "PlumbPipeline", dependencies: ["PlumbStages", "PlumbStore", "PlumbFiles", .product(name: "Yams", package: "Yams")]),
        // The HTML report of runs: typed manifests, metrics and the main job's results; the main job's run of months.
        .target(name: "PlumbReport", dependencies: ["PlumbEval", "PlumbPipeline", "PlumbStages", "PlumbOracle", "PlumbStore", "PlumbFiles"]),
        .target(
            name: "PlumbCLI",
            dependencies: [
                "PlumbTensor", "PlumbModel", "PlumbStore", "PlumbData", "PlumbTask", "PlumbOracle", "PlumbStages", "PlumbEval", "PlumbFiles", "PlumbMPI",
                "PlumbPipeline", "PlumbReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            plugins: ["EmbedBuildInfo"]
        ),
        .executableTarget(name: "plumb", dependencies: ["PlumbCLI", "PlumbTensor"]),

        // Build time: the code version and the built-in pipeline files, generated into PlumbCLI.
        .executableTarget(name: "PlumbBuildInfo", dependencies: ["PlumbFiles"]),
        .plugin(name: "EmbedBuildInfo", capability: .buildTool(), dependencies: ["PlumbBuildInfo"]),

        // Tests: one target per library, and the sample and scratch files some of them share.
        .target(name: "PlumbTestSupport", path: "Tests/PlumbTestSupport"),
        .testTarget(name: "PlumbTensorTests", dependencies: ["PlumbTensor"]),
        .testTarget(name: "PlumbModelTests", dependencies: ["PlumbModel", "PlumbTensor", "PlumbFiles"]),
        .testTarget(name: "PlumbStoreTests", dependencies: ["PlumbStore"]),
        .testTarget(name: "PlumbDataTests", dependencies: ["PlumbData", "PlumbStore", "PlumbTask", "PlumbTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "PlumbTaskTests", dependencies: ["PlumbTask", "PlumbOracle"]),
        .testTarget(name: "PlumbStagesTests", dependencies: ["PlumbStages", "PlumbEval", "PlumbPipeline", "PlumbModel", "PlumbTensor", "PlumbData", "PlumbStore", "PlumbTestSupport"]),
        .testTarget(name: "PlumbEvalTests", dependencies: ["PlumbEval", "PlumbStages"]),
        .testTarget(name: "PlumbPipelineTests", dependencies: ["PlumbPipeline", "PlumbStages", "PlumbEval", "PlumbStore"]),
        .testTarget(name: "PlumbReportTests", dependencies: ["PlumbReport", "PlumbEval", "PlumbStages", "PlumbOracle", "PlumbStore"]),
        .testTarget(name: "PlumbCLITests", dependencies: ["PlumbCLI", "PlumbPipeline", "PlumbStages", "PlumbEval", "PlumbStore", "PlumbData", "PlumbModel", "PlumbTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)

// libFuzzer targets (fuzz/run.sh): only with PLUMB_FUZZ=1, built with
// `-sanitize=fuzzer,address` in their own scratch path, so the normal build never sees them.
if ProcessInfo.processInfo.environment["PLUMB_FUZZ"] == "1" {
    package.targets.append(.executableTarget(
        name: "PlumbFuzz",
        dependencies: ["PlumbData", "PlumbStore", "PlumbModel", "PlumbTensor"],
        path: "fuzz/PlumbFuzz",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    ))
}
