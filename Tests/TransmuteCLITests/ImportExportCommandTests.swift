/// `transmute import` and `transmute export`: reference checkpoints in, PyTorch files out.
import Checkpoints
import Foundation
import Models
import Tensors
import Testing

@testable import TransmuteCLI

/// The checkpoint fixtures written by scripts/make_checkpoint_fixtures.py.
private let checkpointFixtures = packageRoot.appendingPathComponent(
  "Tests/CheckpointsTests/Fixtures")

private func fixture(_ name: String) -> String {
  checkpointFixtures.appendingPathComponent(name).path
}

/// The reference fixture `resnet6.pth` imported as the model `model` inside `folder`; its path.
private func importedModel(in folder: OutputFolder) throws -> String {
  let model = folder.file("model")
  let captured = CapturedConsole()
  let status = Transmute.main(
    ["import", fixture("resnet6.pth"), "--output", model], console: captured.console)
  try #require(status == 0, "import failed: \(captured.error)")
  return model
}

/// A fresh folder for one test's outputs; `remove()` deletes it.
private struct OutputFolder {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("ImportExportTests-\(UUID().uuidString)")
  var path: String { url.path }
  func file(_ name: String) -> String { url.appendingPathComponent(name).path }
  func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The generator fixtures: file stem, residual blocks, dropout.
private let generators: [(name: String, blocks: Int, dropout: Bool)] = [
  ("resnet9", 9, false), ("resnet9_dropout", 9, true), ("resnet6", 6, false),
  ("resnet6_dropout", 6, true),
]

@Suite struct ImportExportCommandTests {
  @Test(arguments: generators.flatMap { [($0.name, ".pth"), ($0.name, "_legacy.pth")] })
  func importedGeneratorMatchesTorch(name: String, suffix: String) throws {
    let folder = OutputFolder()
    defer { folder.remove() }
    let captured = CapturedConsole()
    let status = Transmute.main(
      ["import", fixture(name + suffix), "--output", folder.file("model"), "--names", "x,y"],
      console: captured.console)
    #expect(status == 0, "\(captured.error)")
    #expect(captured.out.hasPrefix("G_A ← \(fixture(name + suffix)): PyTorch"))

    // The directory's G_A on the stored input gives torch's output.
    let model = try ModelDirectory.load(from: folder.url.appendingPathComponent("model"))
    #expect(model.configuration.domainA == "x" && model.configuration.domainB == "y")
    #expect(model.configuration.networks == [.generatorA])
    let generator = try #require(model.generator(.generatorA))
    let io = try SafetensorsFile(
      contentsOf: URL(fileURLWithPath: fixture("\(name)_io.safetensors")))
    let input = try #require(io.tensors["input"])
    let expected = try #require(io.tensors["output"])
    let output = withoutGradients { generator(input) }
    #expect(output.shape == expected.shape)

    let (rtol, atol): (Float, Float) = (1e-4, 1e-5)
    var worst: (excess: Float, index: Int, got: Float, want: Float) = (0, -1, 0, 0)
    for (index, (got, want)) in zip(output.scalars, expected.scalars).enumerated() {
      let excess = abs(got - want) - (atol + rtol * abs(want))
      if excess > worst.excess { worst = (excess, index, got, want) }
    }
    #expect(
      worst.index == -1,
      "\(name)\(suffix): worst difference at \(worst.index): \(worst.got) vs \(worst.want)")
  }

  @Test func importsAPairNamedAsTheReference() throws {
    let folder = OutputFolder()
    defer { folder.remove() }
    try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
    // Reference-style names put each file in its place whatever the order given.
    let gA = folder.file("latest_net_G_A.pth")
    let gB = folder.file("latest_net_G_B.pth")
    try FileManager.default.copyItem(atPath: fixture("resnet6.pth"), toPath: gB)
    try FileManager.default.copyItem(atPath: fixture("resnet6_legacy.pth"), toPath: gA)

    let captured = CapturedConsole()
    let output = folder.file("model")
    let status = Transmute.main(
      ["import", gB, gA, "--output", output, "--netG", "resnet_6blocks", "--ngf", "2"],
      console: captured.console)
    #expect(status == 0, "\(captured.error)")
    #expect(captured.out.contains("G_B ← \(gB): PyTorch zip .pth, resnet_6blocks, ngf 2"))
    #expect(captured.out.contains("G_A ← \(gA): PyTorch legacy .pth"))
    #expect(captured.out.hasSuffix("wrote \(output) (G_A, G_B; A → B)\n"))
    let model = try ModelDirectory.load(from: URL(fileURLWithPath: output))
    #expect(model.configuration.networks == [.generatorA, .generatorB])
    #expect(model.configuration.generator.residualBlocks == 6)
  }

  @Test func importsAllFourNetworksAndTheDiscriminatorMatchesTorch() throws {
    let folder = OutputFolder()
    defer { folder.remove() }
    try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
    let sources = [
      "G_A": "resnet6.pth", "G_B": "resnet6_legacy.pth", "D_A": "patch_d_legacy.pth",
      "D_B": "patch_d_legacy.pth",
    ]
    var files: [String] = []
    for (role, source) in sources.sorted(by: { $0.key < $1.key }) {
      files.append(folder.file("latest_net_\(role).pth"))
      try FileManager.default.copyItem(atPath: fixture(source), toPath: files.last!)
    }

    let captured = CapturedConsole()
    let output = folder.file("model")
    #expect(
      Transmute.main(["import"] + files + ["--output", output], console: captured.console) == 0,
      "\(captured.error)")
    #expect(captured.out.contains("PyTorch legacy .pth, PatchGAN 3 layers, ndf 4, instance norm"))
    let model = try ModelDirectory.load(from: URL(fileURLWithPath: output))
    #expect(
      model.configuration.networks == [.generatorA, .generatorB, .discriminatorA, .discriminatorB])
    #expect(
      model.configuration.discriminator == DiscriminatorConfiguration(filters: 4, norm: .instance))

    let io = try SafetensorsFile(
      contentsOf: URL(fileURLWithPath: fixture("patch_d_io.safetensors")))
    let input = try #require(io.tensors["input"])
    let expected = try #require(io.tensors["output"])
    let discriminator = try #require(model.networks[.discriminatorA])
    let result = withoutGradients { discriminator(input) }
    #expect(result.shape == expected.shape)
    var worst: (difference: Float, index: Int) = (0, -1)
    for (index, (got, want)) in zip(result.scalars, expected.scalars).enumerated() {
      let excess = abs(got - want) - (1e-5 + 1e-4 * abs(want))
      if excess > worst.difference { worst = (excess, index) }
    }
    #expect(worst.index == -1, "D_A differs from torch most at \(worst.index)")
  }

  @Test func dropsOldInstanceNormStatisticsAndDataParallelPrefix() {
    let folder = OutputFolder()
    defer { folder.remove() }
    let captured = CapturedConsole()
    let status = Transmute.main(
      ["import", fixture("old_dataparallel_legacy.pth"), "--output", folder.file("m")],
      console: captured.console)
    #expect(status == 0, "\(captured.error)")
    #expect(captured.out.contains("(51 instance-norm statistics dropped)"))
  }

  @Test func reportsArchitectureConflictsByKeyAndShape() {
    let folder = OutputFolder()
    defer { folder.remove() }
    let cases: [([String], String)] = [
      (
        [fixture("resnet9.pth"), "--netG", "resnet_6blocks"],
        "resnet_6blocks was asked for, but the file has 9 residual blocks"
      ),
      ([fixture("resnet9.pth"), "--ngf", "64"], "model.1.weight has shape [2, 3, 7, 7] (ngf 2)"),
      (
        [fixture("resnet9.pth"), fixture("resnet9_dropout.pth")],
        "does not pair with \(fixture("resnet9.pth"))"
      ),
      ([fixture("forbidden.pth")], "the global posix.system"),
      ([fixture("views.pth")], "model.1.weight is missing"),
    ]
    for (arguments, fragment) in cases {
      let captured = CapturedConsole()
      let status = Transmute.main(
        ["import"] + arguments + ["--output", folder.file("m")], console: captured.console)
      #expect(status == 1, "\(arguments)")
      #expect(captured.error.hasPrefix("transmute import: "), "\(captured.error)")
      #expect(captured.error.contains(fragment), "\(captured.error)")
      #expect(!FileManager.default.fileExists(atPath: folder.file("m/config.json")))
    }
  }

  @Test func checksTheCallBeforeReading() throws {
    let folder = OutputFolder()
    defer { folder.remove() }
    try FileManager.default.createDirectory(
      at: folder.url.appendingPathComponent("full"), withIntermediateDirectories: true)
    try Data().write(to: URL(fileURLWithPath: folder.file("full/x")))
    let cases: [([String], String)] = [
      (["--output", folder.file("m")], "'import' needs one or two generator files"),
      ([fixture("resnet9.pth")], "'import' needs --output DIR"),
      ([fixture("resnet9.pth"), "--output", folder.file("full")], "is not empty"),
      ([fixture("resnet9.pth"), "--output", folder.file("m"), "--names", "horse"], "two names"),
      ([fixture("resnet9.pth"), "--output", folder.file("m"), "--netG", "unet_256"], "netG"),
      (["a.pth", "b.pth", "c.pth", "--output", folder.file("m")], "cannot tell which network"),
      (["1", "2", "3", "4", "5", "--output", folder.file("m")], "at most four files"),
      (["latest_net_D_A.pth", "--output", folder.file("m")], "needs a generator"),
      (["x_net_G_A.pth", "y_net_G_A.pth", "--output", folder.file("m")], "two files hold G_A"),
      (["/nonexistent/latest_net_G_A.pth", "--output", folder.file("m")], "no such file"),
      ([folder.path, "--output", folder.file("m")], "is a folder, not a checkpoint file"),
    ]
    for (arguments, fragment) in cases {
      let captured = CapturedConsole()
      #expect(Transmute.main(["import"] + arguments, console: captured.console) == 2)
      #expect(captured.error.contains(fragment), "\(arguments): \(captured.error)")
    }
  }

  @Test(arguments: ["pth", "safetensors"])
  func exportGivesBackTheImportedTensors(format: String) throws {
    let folder = OutputFolder()
    defer { folder.remove() }
    let model = folder.file("model")
    let captured = CapturedConsole()
    #expect(
      Transmute.main(
        [
          "import", fixture("resnet9_dropout_legacy.pth"), fixture("resnet9_dropout.pth"),
          "--output", model,
        ],
        console: captured.console) == 0)

    let exported = folder.file("exported")
    #expect(
      Transmute.main(
        ["export", "--model", model, "--format", format, "--output", exported],
        console: captured.console) == 0, "\(captured.error)")
    #expect(captured.out.contains("G_B → \(exported)/latest_net_G_B.\(format)"))

    let reference = try PyTorchCheckpoint(
      contentsOf: URL(fileURLWithPath: fixture("resnet9_dropout.pth")))
    for role in ["G_A", "G_B"] {
      let url = URL(fileURLWithPath: "\(exported)/latest_net_\(role).\(format)")
      let tensors: [String: Tensor]
      if format == "pth" {
        let checkpoint = try PyTorchCheckpoint(contentsOf: url)
        #expect(checkpoint.keys == reference.keys, "export keeps the reference's key order")
        tensors = checkpoint.tensors
      } else {
        tensors = try SafetensorsFile(contentsOf: url).tensors
      }
      #expect(Set(tensors.keys) == Set(reference.keys))
      for key in reference.keys {
        #expect(tensors[key]?.shape == reference.tensors[key]?.shape, "\(key)")
        #expect(tensors[key]?.scalars == reference.tensors[key]?.scalars, "\(role) \(key)")
      }
    }

    // One network to one file.
    let single = folder.file("g.\(format)")
    #expect(
      Transmute.main(
        ["export", "--model", model, "--format", format, "--network", "G_B", "--output", single],
        console: captured.console) == 0)
    #expect(FileManager.default.fileExists(atPath: single))
    #expect(
      Transmute.main(
        ["export", "--model", model, "--network", "D_A", "--output", single],
        console: captured.console) == 1)
    #expect(captured.error.contains("no D_A"), "\(captured.error)")

    // One network into a folder that does not exist yet: the folder is made.
    let nested = folder.file("new/deeper/g.\(format)")
    #expect(
      Transmute.main(
        ["export", "--model", model, "--format", format, "--network", "G_A", "--output", nested],
        console: captured.console) == 0, "\(captured.error)")
    #expect(FileManager.default.fileExists(atPath: nested))
  }

  @Test func oneNetworkGoesIntoAFolderAndTheFileNameChoosesTheFormat() throws {
    let folder = OutputFolder()
    defer { folder.remove() }
    let model = try importedModel(in: folder)
    let reference = try PyTorchCheckpoint(contentsOf: URL(fileURLWithPath: fixture("resnet6.pth")))

    // A name ending in / (new) or an existing folder receives the reference's file name.
    try FileManager.default.createDirectory(
      atPath: folder.file("existing"), withIntermediateDirectories: true)
    for (output, written) in [
      (folder.file("new") + "/", folder.file("new/latest_net_G_A.pth")),
      (folder.file("existing"), folder.file("existing/latest_net_G_A.pth")),
    ] {
      let run = CapturedConsole()
      #expect(
        Transmute.main(
          ["export", "--model", model, "--network", "G_A", "--output", output],
          console: run.console) == 0, "\(run.error)")
      #expect(run.out == "G_A → \(written)\n", "\(run.out)")
      let tensors = try PyTorchCheckpoint(contentsOf: URL(fileURLWithPath: written)).tensors
      #expect(tensors["model.1.weight"]?.scalars == reference.tensors["model.1.weight"]?.scalars)
    }

    // Without --format, .safetensors writes safetensors (not a zip named .safetensors).
    let named = folder.file("g.safetensors")
    let exported = CapturedConsole()
    #expect(
      Transmute.main(
        ["export", "--model", model, "--network", "G_A", "--output", named],
        console: exported.console) == 0, "\(exported.error)")
    let tensors = try SafetensorsFile(contentsOf: URL(fileURLWithPath: named)).tensors
    #expect(Set(tensors.keys) == Set(reference.keys))

    // A name that contradicts --format is refused before anything is written.
    let contradicting = CapturedConsole()
    #expect(
      Transmute.main(
        [
          "export", "--model", model, "--network", "G_A", "--format", "safetensors", "--output",
          folder.file("g.pth"),
        ], console: contradicting.console) == 2)
    #expect(
      contradicting.error.hasPrefix(
        "transmute export: --output \(folder.file("g.pth")) names a pth file, but --format is "
          + "safetensors\nname the file .safetensors, or drop --format"), "\(contradicting.error)")
    #expect(!FileManager.default.fileExists(atPath: folder.file("g.pth")))
  }

  @Test func anEmptyOutputIsRefusedRatherThanTakenAsTheCurrentFolder() throws {
    let folder = OutputFolder()
    defer { folder.remove() }
    let model = try importedModel(in: folder)
    let before = try FileManager.default.contentsOfDirectory(
      atPath: FileManager.default.currentDirectoryPath)

    for arguments in [
      ["import", fixture("resnet6.pth"), "--output", ""],
      ["export", "--model", model, "--output", ""],
      ["export", "--model", model, "--network", "G_A", "--output="],
    ] {
      let run = CapturedConsole()
      #expect(Transmute.main(arguments, console: run.console) == 2, "\(arguments)")
      #expect(run.error.contains("option '--output' needs a value, got an empty one"))
    }
    let after = try FileManager.default.contentsOfDirectory(
      atPath: FileManager.default.currentDirectoryPath)
    #expect(Set(after) == Set(before), "files appeared in the current folder")
  }

  @Test func importRefusesTwoDomainsOfOneName() {
    let folder = OutputFolder()
    defer { folder.remove() }
    let captured = CapturedConsole()
    #expect(
      Transmute.main(
        ["import", fixture("resnet6.pth"), "--output", folder.file("m"), "--names", "cat, cat"],
        console: captured.console) == 2)
    #expect(
      captured.error.hasPrefix(
        "transmute import: option '--names' needs two different names, got 'cat' twice"),
      "\(captured.error)")
    #expect(!FileManager.default.fileExists(atPath: folder.file("m")))
  }

  @Test func aFolderThatCannotBeMadeIsReportedWithTheSystemsReason() throws {
    let folder = OutputFolder()
    defer { folder.remove() }
    let model = try importedModel(in: folder)

    // A regular file where a folder would have to be (root may write anywhere else).
    let blocker = folder.file("blocker")
    #expect(FileManager.default.createFile(atPath: blocker, contents: Data([1])))
    let failed = CapturedConsole()
    #expect(
      Transmute.main(
        ["export", "--model", model, "--output", blocker + "/out"], console: failed.console) == 1)
    #expect(
      failed.error
        == "transmute export: \(blocker)/out: cannot create the folder: \(blocker) is a file, "
        + "not a folder\n", "\(failed.error)")
    #expect(!failed.error.contains("Error Domain"), "\(failed.error)")
    #expect(!failed.error.contains("could not be completed"), "\(failed.error)")
  }
}
