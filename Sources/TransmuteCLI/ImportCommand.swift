/// `transmute import FILE.pth [FILE.pth] --output DIR`: PyTorch generators into a model
/// directory.
import Checkpoints
import Foundation
import ImageIO
import Models
import NeuralNet
import Tensors

/// Reads one or two ResNet generators (and, when named so, the discriminators) from `.pth`
/// files (either format of `torch.save`) or safetensors files, infers their architecture from
/// the keys and shapes, and writes a Transmute model directory that `transmute translate` runs.
enum ImportCommand: Command {
  static let name = "import"
  static let summary = "Turn PyTorch checkpoints (.pth) into a Transmute model directory."
  static let synopsis =
    "import FILE.pth [FILE.pth …] --output DIR [--netG resnet_9blocks|resnet_6blocks] [--ngf N]"
    + " [--names A,B]"
  static let discussion = """
    The first file becomes G_A (translating A to B) and the second G_B; files named as the \
    reference names its checkpoints (latest_net_G_A.pth, 200_net_G_B.pth, …) go where their \
    names say. Both formats of torch.save are read (the zip archive of PyTorch 1.6 and later, \
    and the older format of the reference's pretrained models), and safetensors files too, \
    through a strict reader that runs no code from the file. The architecture (residual \
    blocks, ngf, dropout, norm, channels) is read from the keys and shapes; --netG and --ngf \
    only check it. A DataParallel 'module.' prefix and the instance-norm statistics of old \
    files are dropped, as the reference's loader does. Discriminator files named as the \
    reference names them (latest_net_D_A.pth, latest_net_D_B.pth) are imported too, so that \
    the model can be trained further.
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
    // translate --to NAME tells the directions apart by these names.
    guard names[0] != names[1] else {
      throw UsageError(
        "option '--names' needs two different names, got '\(names[0])' twice",
        hint: "write: --names horse,zebra")
    }
    let upsampling: GeneratorUpsampling =
      try arguments.choice("upsampling", ["nearest", "bilinear"]) == "bilinear"
      ? .bilinear : .nearest
    let roles = try assignRoles(files)
    try checkOutputFolder(output)
    for file in files {
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: file, isDirectory: &isFolder) else {
        throw UsageError(
          "\(FilePath(file)): no such file",
          hint: "give the .pth or .safetensors files of the generators (latest_net_G_A.pth …)")
      }
      if isFolder.boolValue {
        throw UsageError(
          "\(FilePath(file)): is a folder, not a checkpoint file",
          hint: "give the files inside it, e.g. \(file)/latest_net_G_A.pth")
      }
    }

    // Read each network and check that they describe one model.
    var weights: [NetworkRole: GeneratorWeights] = [:]
    var discriminators: [NetworkRole: (layout: DiscriminatorLayout, tensors: [String: Tensor])] =
      [:]
    for (file, role) in roles {
      let url = URL(fileURLWithPath: file)
      if !role.isGenerator {
        let (raw, format) = try GeneratorWeights.readTensors(url)
        let (tensors, dropped) = ReferenceKeys.normalized(raw)
        let layout = try DiscriminatorLayout(
          inferringFrom: tensors.mapValues(\.shape), path: file)
        let kind: String
        switch layout.kind {
        case .patch(let layers): kind = "PatchGAN \(layers) layers"
        case .pixel: kind = "pixel PatchGAN"
        }
        var line =
          "\(role.rawValue) ← \(file): \(format.rawValue), \(kind), ndf \(layout.ndf),"
          + " \(layout.norm.rawValue) norm, \(layout.inputChannels) channels"
        if !dropped.isEmpty { line += " (\(dropped.count) instance-norm statistics dropped)" }
        console.out(line)
        discriminators[role] = (layout, tensors)
        continue
      }
      let generator = try GeneratorWeights(contentsOf: url, blocks: blocks, ngf: ngf)
      let layout = generator.layout
      var line =
        "\(role.rawValue) ← \(file): \(generator.sourceFormat.rawValue),"
        + " resnet_\(layout.blocks)blocks, ngf \(layout.ngf), \(layout.norm.rawValue) norm"
        + "\(layout.dropout ? ", dropout" : ""), \(layout.inputChannels)→\(layout.outputChannels)"
        + " channels"
      if !generator.droppedKeys.isEmpty {
        line += " (\(generator.droppedKeys.count) instance-norm statistics dropped)"
      }
      console.out(line)
      weights[role] = generator
    }
    var configuration = try configuration(
      weights, files: roles.filter { $0.1.isGenerator }, names: names, upsampling: upsampling)
    configuration.networks = roles.map(\.1).sorted()
    configuration.discriminator = try discriminatorConfiguration(
      discriminators, files: roles, configuration: configuration)

    // Load the weights into Transmute's networks, then write the directory.
    var networks: [NetworkRole: any Layer] = [:]
    for (file, role) in roles {
      let network = configuration.makeNetwork(role)
      do {
        try network.loadStateDictionary(
          role.isGenerator ? weights[role]!.tensors : discriminators[role]!.tensors)
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

  /// Which network each file holds: the role in a reference-style name (`latest_net_G_A.pth`,
  /// `200_net_D_B.pth`), otherwise a generator by position (first G_A, then G_B).
  /// Discriminators are recognised by name only.
  static func assignRoles(_ files: [String]) throws(UsageError) -> [(String, NetworkRole)] {
    guard files.count <= 4 else {
      throw UsageError(
        "'import' takes at most four files (G_A, G_B, D_A, D_B), got \(files.count)")
    }
    var named: [String: NetworkRole] = [:]
    for file in files {
      let base = URL(fileURLWithPath: file).lastPathComponent
      for role in NetworkRole.allCases where base.contains("net_\(role.rawValue)") {
        named[file] = role
      }
    }
    var free = [NetworkRole.generatorA, .generatorB].filter { !named.values.contains($0) }
    var result: [(String, NetworkRole)] = []
    for file in files {
      let role: NetworkRole
      if let namedRole = named[file] {
        role = namedRole
      } else if !free.isEmpty {
        role = free.removeFirst()
      } else {
        throw UsageError(
          "cannot tell which network \(file) holds",
          hint: "name the files as the reference does: latest_net_G_A.pth, latest_net_D_B.pth, …")
      }
      guard !result.contains(where: { $0.1 == role }) else {
        throw UsageError("two files hold \(role.rawValue): choose one")
      }
      result.append((file, role))
    }
    guard result.contains(where: { $0.1.isGenerator }) else {
      throw UsageError(
        "'import' needs a generator; discriminators alone make no model",
        hint: "add the net_G_A (and net_G_B) files")
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

  /// The discriminator configuration the files describe (nil without discriminators); two
  /// must agree, and each must judge the right domain (D_A judges B, D_B judges A).
  static func discriminatorConfiguration(
    _ discriminators: [NetworkRole: (layout: DiscriminatorLayout, tensors: [String: Tensor])],
    files: [(String, NetworkRole)], configuration: ModelConfiguration
  ) throws -> DiscriminatorConfiguration? {
    let found = files.filter { !$0.1.isGenerator }
    guard let (firstFile, firstRole) = found.first, let first = discriminators[firstRole]?.layout
    else { return nil }
    for (file, role) in found {
      guard let layout = discriminators[role]?.layout else { continue }
      let wanted = configuration.inputChannels(of: role)
      guard layout.inputChannels == wanted else {
        throw CheckpointError(
          .architectureMismatch, path: file,
          reason: "\(role.rawValue) must judge \(wanted)-channel images, but its first conv takes"
            + " \(layout.inputChannels) channels")
      }
      guard layout.kind == first.kind, layout.ndf == first.ndf, layout.norm == first.norm else {
        throw CheckpointError(
          .architectureMismatch, path: file,
          reason: "does not match the discriminator in \(firstFile) (kind, ndf or norm differ)")
      }
    }
    let norm: NormKind
    switch first.norm {
    case .instance: norm = .instance
    case .batch: norm = .batch
    case .none: norm = .none
    }
    switch first.kind {
    case .pixel:
      return DiscriminatorConfiguration(kind: .pixel, filters: first.ndf, norm: norm)
    case .patch(let layers):
      return DiscriminatorConfiguration(
        kind: layers == 3 ? .basic : .nLayers, filters: first.ndf, layers: layers, norm: norm)
    }
  }

  private static func summary(_ layout: ResnetGeneratorLayout) -> String {
    "resnet_\(layout.blocks)blocks ngf \(layout.ngf) \(layout.norm.rawValue) norm"
      + "\(layout.dropout ? " dropout" : "") \(layout.inputChannels)→\(layout.outputChannels)"
  }
}
