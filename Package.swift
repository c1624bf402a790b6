// swift-tools-version: 6.0
// Transmute: unpaired image-to-image translation (CycleGAN) in Swift, on a CPU.
import PackageDescription

let package = Package(
  name: "Transmute",
  products: [
    .executable(name: "transmute", targets: ["transmute"])
  ],
  targets: [
    // C libraries from Debian, reached through module maps and a small shim.
    .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas"),
    .systemLibrary(name: "CZip", path: "Sources/CZip", pkgConfig: "libzip"),
    .target(
      name: "CImageCodecs",
      path: "Sources/CImageCodecs",
      linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]
    ),

    // Swift modules, one job each (docs/ARCHITECTURE.md).
    .target(name: "Kernels", dependencies: ["CBLAS"]),
    .target(name: "Tensors", dependencies: ["Kernels"]),
    .target(name: "ImageIO", dependencies: ["CImageCodecs", "Tensors"]),
    .target(name: "NeuralNet", dependencies: ["Tensors", "Kernels"]),
    .target(name: "Checkpoints", dependencies: ["Tensors", "CZip"]),
    .target(name: "Models", dependencies: ["NeuralNet", "Checkpoints"]),
    .target(name: "Training", dependencies: ["Models", "Checkpoints", "ImageIO"]),
    .target(name: "Translation", dependencies: ["Models", "Checkpoints", "ImageIO"]),
    .target(name: "Evaluation", dependencies: ["Models", "Checkpoints", "ImageIO"]),
    .target(
      name: "TransmuteCLI",
      dependencies: ["ImageIO", "Models", "Checkpoints", "Training", "Translation", "Evaluation"]
    ),
    .executableTarget(name: "transmute", dependencies: ["TransmuteCLI"]),
    .executableTarget(
      name: "ConvolutionBench", dependencies: ["Kernels"], path: "bench/ConvolutionBench"),
    .executableTarget(name: "DecodeBench", dependencies: ["ImageIO"], path: "bench/DecodeBench"),
    .executableTarget(
      name: "TensorsBench", dependencies: ["Tensors"], path: "bench/TensorsBench"),
    .executableTarget(name: "ModelsBench", dependencies: ["Models"], path: "bench/ModelsBench"),
    .executableTarget(
      name: "CycleGANBench", dependencies: ["Training", "Translation"],
      path: "bench/CycleGANBench"),

    // Tests mirror the targets; fixtures live beside them, written by scripts/.
    .testTarget(name: "ImageIOTests", dependencies: ["ImageIO"], resources: [.copy("Fixtures")]),
    .testTarget(name: "KernelsTests", dependencies: ["Kernels"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TensorsTests", dependencies: ["Tensors"], resources: [.copy("Fixtures")]),
    .testTarget(
      name: "NeuralNetTests", dependencies: ["NeuralNet"], resources: [.copy("Fixtures")]),
    .testTarget(name: "ModelsTests", dependencies: ["Models"], resources: [.copy("Fixtures")]),
    .testTarget(
      name: "CheckpointsTests", dependencies: ["Checkpoints"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TrainingTests", dependencies: ["Training"], resources: [.copy("Fixtures")]),
    .testTarget(
      name: "TranslationTests", dependencies: ["Translation"], resources: [.copy("Fixtures")]),
    .testTarget(
      name: "EvaluationTests", dependencies: ["Evaluation"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TransmuteCLITests", dependencies: ["TransmuteCLI"]),
    .testTarget(name: "DatasetScriptTests", path: "Tests/DatasetScriptTests"),
  ]
)
