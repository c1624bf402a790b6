import Foundation
import Tensors

/// A ResNet generator's weights read from any file Transmute accepts (`.pth` in either format,
/// or safetensors), cleaned up as the reference's loader does, with the architecture the keys
/// and shapes show.
public struct GeneratorWeights: Sendable {
  /// The kinds of file a generator is read from.
  public enum SourceFormat: String, Sendable {
    case pthZip = "PyTorch zip .pth"
    case pthLegacy = "PyTorch legacy .pth"
    case safetensors = "safetensors"
  }

  /// What the file was.
  public let sourceFormat: SourceFormat
  /// The architecture read from the keys and shapes.
  public let layout: ResnetGeneratorLayout
  /// The tensors by reference key (`model.1.weight`, …), without `module.` prefixes or
  /// instance-norm statistics.
  public let tensors: [String: Tensor]
  /// The keys of the file that were dropped (instance-norm statistics), as found.
  public let droppedKeys: [String]

  /// Reads the generator at `url`. When `blocks` or `ngf` are given, a file that disagrees
  /// with them is refused with an error naming the keys and shapes that show it.
  public init(contentsOf url: URL, blocks: Int? = nil, ngf: Int? = nil) throws(CheckpointError) {
    let (raw, format) = try Self.readTensors(url)
    let (tensors, dropped) = ReferenceKeys.normalized(raw)
    let layout = try ResnetGeneratorLayout(
      inferringFrom: tensors.mapValues(\.shape), path: url.path)
    let conflicts = layout.conflicts(blocks: blocks, ngf: ngf)
    guard conflicts.isEmpty else {
      throw CheckpointError(
        .architectureMismatch, path: url.path, reason: conflicts.joined(separator: "; "))
    }
    self.sourceFormat = format
    self.layout = layout
    self.tensors = tensors
    self.droppedKeys = dropped
  }

  /// The tensors of a `.pth` or safetensors file, told apart by their first bytes rather than
  /// their extension.
  public static func readTensors(_ url: URL) throws(CheckpointError) -> (
    tensors: [String: Tensor], format: SourceFormat
  ) {
    let bytes = try readWholeFile(url)
    if looksLikeSafetensors(bytes) {
      return (try SafetensorsFile(bytes: bytes, path: url.path).tensors, .safetensors)
    }
    let checkpoint = try PyTorchCheckpoint(bytes: bytes, path: url.path)
    return (checkpoint.tensors, checkpoint.format == .zip ? .pthZip : .pthLegacy)
  }

  /// Whether `bytes` start like a safetensors file: a plausible header length, then `{`.
  static func looksLikeSafetensors(_ bytes: [UInt8]) -> Bool {
    guard bytes.count >= 10, bytes[8] == UInt8(ascii: "{") else { return false }
    let length = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    return length <= UInt64(SafetensorsFile.maximumHeaderSize)
  }
}
