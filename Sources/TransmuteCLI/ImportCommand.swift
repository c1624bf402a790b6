/// `transmute import FILE.pth [FILE.pth] --output DIR`: PyTorch generators into a model
/// directory.
import Checkpoints
import Foundation
import Models
import NeuralNet

/// Reads one or two ResNet generators from `.pth` files (either format of `torch.save`) or
/// safetensors files, infers their architecture from the keys and shapes, and writes a
/// generators-only Transmute model directory that `transmute translate` runs.
enum ImportCommand: Command {
  static let name = "import"
  static let summary = "Turn PyTorch generator checkpoints (.pth) into a Transmute model."
  static let synopsis =
    "import FILE.pth [FILE.pth] --output DIR [--netG resnet_9blocks|resnet_6blocks] [--ngf N]"
    + " [--names A,B]"
  static let discussion = """
    The first file becomes G_A (translating A to B) and the second G_B; files named as the \
    reference names its checkpoints (latest_net_G_A.pth, 200_net_G_B.pth, …) go where their \
    names say. Both formats of torch.save are read (the zip archive of PyTorch 1.6 and later, \
    and the older format of the reference's pretrained models), and safetensors files too, \
    through a strict reader that runs no code from the file. The architecture (residual \
    blocks, ngf, dropout, norm, channels) is read from the keys and shapes; --netG and --ngf \
    only check it. A DataParallel 'module.' prefix and the instance-norm statistics of old \
    files are dropped, as the reference's loader does. Discriminators are not imported.
    """
  static let options: [OptionSpec] = [
    .value("output", "DIR", help: "The model directory to create (must be new or empty)."),
    .value(
      "netG", "NAME",
      help: "Check that the files hold this generator: resnet_9blocks or resnet_6blocks."),
    .value("ngf", "N", help: "Check that the first convolution has N filters."),
    .value("names", "A,B", default: "A,B", help: "Names of the two domains, e.g. horse,zebra."),
    .value(
      "upsampling", "MODE", default: "nearest",
      help: "For Transmute's upsample-then-convolve generators: nearest or bilinear."),
    .flag("half", help: "Store the weights as float16 (half the size, slightly rounded)."),
  ]

  static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
    // Check the whole call before reading anything.
    let files = arguments.positionals
    guard !files.isEmpty else {
      throw UsageError(
        "'import' needs one or two generator files",
        hint: "write: transmute import latest_net_G_A.pth latest_net_G_B.pth --output DIR")
    }
    guard let output = arguments.string("output") else {
      throw UsageError("'import' needs --output DIR", hint: "write: --output models/horse2zebra")
    }
    var blocks: Int?
    if let netG = try arguments.choice("netG", ["resnet_9blocks", "resnet_6blocks"]) {
      blocks = netG == "resnet_9blocks" ? 9 : 6
    }
    let ngf = try arguments.int("ngf", in: 1...4096)
    let names = (arguments.string("names") ?? "A,B").split(
      separator: ",", omittingEmptySubsequences: false
    )
    .map { $0.trimmingCharacters(in: .whitespaces) }
    guard names.count == 2, names.allSatisfy({ !$0.isEmpty }) else {
      throw UsageError(
        "option '--names' needs two names separated by a comma", hint: "write: --names horse,zebra")
    }
    let upsampling: GeneratorUpsampling =
      try arguments.choice("upsampling", ["nearest", "bilinear"]) == "bilinear"
      ? .bilinear : .nearest
    let roles = try assignRoles(files)
    try checkOutputFolder(output)

    // Read each generator and check that the two describe one model.
    var weights: [NetworkRole: GeneratorWeights] = [:]
    for (file, role) in roles {
      let generator = try GeneratorWeights(
        contentsOf: URL(fileURLWithPath: file), blocks: blocks, ngf: ngf)
      let layout = generator.layout
      var line =
        "\(role.rawValue) ← \(file): \(generator.sourceFormat.rawValue), resnet_\(layout.blocks)blocks,"
        + " ngf \(layout.ngf), \(layout.norm.rawValue) norm"
        + "\(layout.dropout ? ", dropout" : ""), \(layout.inputChannels)→\(layout.outputChannels)"
        + " channels"
      if !generator.droppedKeys.isEmpty {
        line += " (\(generator.droppedKeys.count) instance-norm statistics dropped)"
      }
      console.out(line)
      weights[role] = generator
    }
    let configuration = try configuration(
      weights, files: roles, names: names, upsampling: upsampling)

    // Load the weights into Transmute's networks, then write the directory.
    var networks: [NetworkRole: any Layer] = [:]
    for (file, role) in roles {
      let network = configuration.makeNetwork(role)
      do {
        try network.loadStateDictionary(weights[role]!.tensors)
      } catch {
        throw CheckpointError(
          .architectureMismatch, path: file, reason: "the weights do not fit: \(error)")
      }
      networks[role] = network
    }
    let url = URL(fileURLWithPath: output)
    try ModelDirectory.save(
      configuration: configuration, networks: networks, to: url,
      as: arguments.flag("half") ? .float16 : .float32)
    let held = networks.keys.sorted().map(\.rawValue).joined(separator: ", ")
    console.out("wrote \(output) (\(held); \(names[0]) → \(names[1]))")
    return 0
  }

  /// Which network each file holds: G_A or G_B from a reference-style name, otherwise by
  /// position (first G_A, then G_B).
  static func assignRoles(_ files: [String]) throws(UsageError) -> [(String, NetworkRole)] {
    guard files.count <= 2 else {
      throw UsageError(
        "'import' takes at most two generator files (G_A and G_B), got \(files.count)")
    }
    var named: [String: NetworkRole] = [:]
    for file in files {
      let base = URL(fileURLWithPath: file).lastPathComponent
      if base.contains("net_D_A") || base.contains("net_D_B") {
        throw UsageError(
          "\(file) looks like a discriminator; only generators are imported",
          hint: "import the net_G_A and net_G_B files: they are all translation needs")
      }
      if base.contains("net_G_A") { named[file] = .generatorA }
      if base.contains("net_G_B") { named[file] = .generatorB }
    }
    var free = [NetworkRole.generatorA, .generatorB].filter { !named.values.contains($0) }
    var result: [(String, NetworkRole)] = []
    for file in files {
      if let role = named[file] {
        guard !result.contains(where: { $0.1 == role }) else {
          throw UsageError("two files are named as \(role.rawValue): choose one")
        }
        result.append((file, role))
      } else {
        result.append((file, free.removeFirst()))
      }
    }
    return result
  }

  /// Refuses an output path that is a file or a folder with something in it.
  static func checkOutputFolder(_ output: String) throws(UsageError) {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) else { return }
    guard isDirectory.boolValue else {
      throw UsageError("--output \(output) is a file; a model is a directory")
    }
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
    guard entries.isEmpty else {
      throw UsageError(
        "--output \(output) is not empty; Transmute will not overwrite it",
        hint: "choose a new folder, or remove this one first")
    }
  }

  /// The model configuration the generators describe; two generators must mirror each other
  /// (same architecture, G_B's channels the reverse of G_A's).
  static func configuration(
    _ weights: [NetworkRole: GeneratorWeights], files: [(String, NetworkRole)], names: [String],
    upsampling: GeneratorUpsampling
  ) throws -> ModelConfiguration {
    let (firstFile, firstRole) = files[0]
    let first = weights[firstRole]!.layout
    if files.count == 2 {
      let (secondFile, secondRole) = files[1]
      let second = weights[secondRole]!.layout
      let sameArchitecture =
        first.blocks == second.blocks && first.ngf == second.ngf && first.norm == second.norm
        && first.dropout == second.dropout && first.upsampling == second.upsampling
      guard sameArchitecture, first.inputChannels == second.outputChannels,
        first.outputChannels == second.inputChannels
      else {
        throw CheckpointError(
          .architectureMismatch, path: secondFile,
          reason: "does not pair with \(firstFile): \(summary(second)) against \(summary(first))"
            + " (G_B must mirror G_A, with the channel counts reversed)")
      }
    }
    let norm: NormKind
    switch first.norm {
    case .instance: norm = .instance
    case .batch: norm = .batch
    case .none: norm = .none
    }
    let generator = GeneratorConfiguration(
      filters: first.ngf, residualBlocks: first.blocks, norm: norm, dropout: first.dropout,
      upsampling: first.upsampling == .transposedConvolution ? .transpose : upsampling)
    // G_A reads domain A; a lone G_B reads domain B.
    let channelsA = firstRole == .generatorA ? first.inputChannels : first.outputChannels
    let channelsB = firstRole == .generatorA ? first.outputChannels : first.inputChannels
    return ModelConfiguration(
      generator: generator, discriminator: nil, channelsA: channelsA, channelsB: channelsB,
      domainA: names[0], domainB: names[1], networks: files.map(\.1).sorted(),
      options: ["imported_from": files.map(\.0).joined(separator: ", ")])
  }

  private static func summary(_ layout: ResnetGeneratorLayout) -> String {
    "resnet_\(layout.blocks)blocks ngf \(layout.ngf) \(layout.norm.rawValue) norm"
      + "\(layout.dropout ? " dropout" : "") \(layout.inputChannels)→\(layout.outputChannels)"
  }
}
