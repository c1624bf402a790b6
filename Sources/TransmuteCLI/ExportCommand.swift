/// `transmute export --model DIR --format pth|safetensors --output PATH`: a model's networks
/// for PyTorch.
import Checkpoints
import Foundation
import Models
import NeuralNet

/// Writes the networks of a Transmute model directory as files the PyTorch reference loads:
/// `.pth` (`torch.load(..., weights_only=True)` then `load_state_dict`) or safetensors
/// (`safetensors.torch.load_file`), keyed as the reference's state_dicts.
enum ExportCommand: Command {
  static let name = "export"
  static let summary = "Write a model's networks as PyTorch .pth or safetensors files."
  static let synopsis =
    "export --model DIR --output PATH [--format pth|safetensors] [--network G_A|G_B|D_A|D_B]"
    + " [--half]"
  static let discussion = """
    Without --network, PATH is a folder that receives one file per network the model holds, \
    named as the reference names its checkpoints (latest_net_G_A.pth, latest_net_G_B.pth, …), \
    so that the reference's test.py loads them with --epoch latest. With --network, PATH is \
    the file to write (a name ending in .safetensors, .pth or .pt chooses the format), or a \
    folder (existing, or ending in /) that receives it under the reference's name. Files are \
    written atomically; existing files of the same names are replaced.
    """
  static let options: [OptionSpec] = [
    .value("model", "DIR", help: "The Transmute model directory to export."),
    .value(
      "format", "FORMAT", default: "pth",
      help: "pth or safetensors (with --network, the file's extension chooses)."),
    .value("output", "PATH", help: "The folder to write into, or the file with --network."),
    .value("network", "ROLE", help: "Export only this network: G_A, G_B, D_A or D_B."),
    .flag("half", help: "Store the weights as float16 (half the size, slightly rounded)."),
  ]

  static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
    guard arguments.positionals.isEmpty else {
      throw UsageError(
        "'export' takes no positional arguments, got '\(arguments.positionals[0])'",
        hint: "write: transmute export --model DIR --format pth --output FOLDER")
    }
    guard let model = arguments.string("model") else {
      throw UsageError("'export' needs --model DIR", hint: "write: --model models/horse2zebra")
    }
    guard let output = arguments.string("output") else {
      throw UsageError("'export' needs --output PATH", hint: "write: --output exported")
    }
    var format = try arguments.choice("format", ["pth", "safetensors"]) ?? "pth"
    let role = try arguments.choice("network", NetworkRole.allCases.map(\.rawValue)).flatMap {
      NetworkRole(rawValue: $0)
    }
    let type: StoredScalarType = arguments.flag("half") ? .float16 : .float32

    // With --network, an output that ends in / or is a folder receives the file under the
    // reference's name; a file's own extension chooses the format, or must agree with --format.
    var isFolder: ObjCBool = false
    let outputIsFolder =
      role == nil || output.hasSuffix("/")
      || (FileManager.default.fileExists(atPath: output, isDirectory: &isFolder)
        && isFolder.boolValue)
    if !outputIsFolder, let named = exportFormat(ofFileNamed: output) {
      if arguments.values["format"] != nil && named != format {
        throw UsageError(
          "--output \(output) names a \(named) file, but --format is \(format)",
          hint: "name the file .\(format), or drop --format")
      }
      format = named
    }

    let directory = try ModelDirectory.load(
      from: URL(fileURLWithPath: model), roles: role.map { [$0] })
    var targets: [(NetworkRole, URL)] = []
    // The folder that receives the files (the file's folder with --network) is made if need be.
    let folder =
      outputIsFolder
      ? URL(fileURLWithPath: output) : URL(fileURLWithPath: output).deletingLastPathComponent()
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw CheckpointError(
        .unwritable, path: folder.path,
        reason: "cannot create the folder: \(fileErrorReason(error))")
    }
    if let role, !outputIsFolder {
      targets = [(role, URL(fileURLWithPath: output))]
    } else {
      targets = (role.map { [$0] } ?? directory.networks.keys.sorted()).map {
        ($0, folder.appendingPathComponent("latest_net_\($0.rawValue).\(format)"))
      }
    }

    for (role, url) in targets {
      guard let network = directory.networks[role] else { continue }
      let entries = network.stateDictionary()
      if format == "pth" {
        try PyTorchCheckpoint.write(
          entries.map { ($0.name, $0.value) }, to: url, as: type,
          integerKeys: Set(entries.filter(\.holdsInteger).map(\.name)))
      } else {
        let file = SafetensorsFile(
          tensors: Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.value) }),
          metadata: ["format": "pt", "network": role.rawValue])
        try file.write(to: url, as: type)
      }
      console.out("\(role.rawValue) → \(url.path)")
    }
    return 0
  }
}

/// The export format a file name's extension names (`pth` for `.pth` and `.pt`, `safetensors`),
/// case-insensitively, or nil for any other name.
func exportFormat(ofFileNamed name: String) -> String? {
  switch URL(fileURLWithPath: name).pathExtension.lowercased() {
  case "pth", "pt": return "pth"
  case "safetensors": return "safetensors"
  default: return nil
  }
}
