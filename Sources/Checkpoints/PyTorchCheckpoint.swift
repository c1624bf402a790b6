import Foundation
import Tensors

/// The tensors of a PyTorch checkpoint (`torch.save(state_dict)`), read without Python.
///
/// Both of `torch.save`'s formats are read:
/// - the zip archive written since PyTorch 1.6: `ARCHIVE/data.pkl` (the pickled state_dict)
///   and one record `ARCHIVE/data/KEY` per storage;
/// - the legacy stream of older releases (and of `_use_new_zipfile_serialization=False`),
///   which the reference's published pretrained models use: five pickles (magic number,
///   protocol version 1001, system information, the state_dict, the list of storage keys)
///   followed by each storage as an 8-byte element count and its raw little-endian elements.
///
/// The pickles go through a strict unpickler (see `Unpickler`) that refuses any global but the
/// few a state_dict of tensors needs. Tensors keep their storage offsets and strides as stored;
/// they come out contiguous and Float32 whatever the storage type.
public struct PyTorchCheckpoint: Sendable {
  /// The two container formats of `torch.save`.
  public enum Format: String, Sendable {
    case zip
    case legacy
  }

  /// The format the file was written in.
  public let format: Format
  /// The state_dict keys in the file's order.
  public let keys: [String]
  /// The tensors by key.
  public let tensors: [String: Tensor]
  /// The storage type each tensor was read from.
  public let storedTypes: [String: TorchStorageType]

  /// Reads the checkpoint at `url`.
  public init(contentsOf url: URL) throws(CheckpointError) {
    try self.init(bytes: readWholeFile(url), path: url.path)
  }

  /// Reads a checkpoint from its bytes; `path` names it in errors.
  public init(bytes: [UInt8], path: String) throws(CheckpointError) {
    let entries: [(String, TensorReference)]
    let storages: [String: ArraySlice<UInt8>]
    if bytes.starts(with: [0x50, 0x4b, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4b, 0x05, 0x06])
    {
      format = .zip
      (entries, storages) = try Self.readZip(bytes, path: path)
    } else if bytes.first == 0x80 {
      format = .legacy
      (entries, storages) = try Self.readLegacy(bytes, path: path)
    } else if bytes.count > 262, Array(bytes[257..<262]) == Array("ustar".utf8) {
      throw CheckpointError(
        .unsupported, path: path,
        reason: "this is the tar format of PyTorch before 0.4; load it in PyTorch and save it"
          + " again with torch.save(model.state_dict(), path)")
    } else if bytes.isEmpty {
      throw CheckpointError(.truncated, path: path, reason: "the file is empty")
    } else {
      throw CheckpointError(
        .malformed, path: path,
        reason: "not a PyTorch checkpoint (neither a zip archive nor a pickle stream)")
    }

    // Decode each storage once, then cut every tensor out of its storage.
    var decoded: [String: (storage: StorageReference, scalars: [Float])] = [:]
    var tensors: [String: Tensor] = [:]
    var storedTypes: [String: TorchStorageType] = [:]
    for (key, reference) in entries {
      let storage = reference.storage
      if let earlier = decoded[storage.key]?.storage {
        guard earlier.type == storage.type, earlier.count == storage.count else {
          throw CheckpointError(
            .malformed, path: path,
            reason: "storage \(storage.key) is described two ways (\(earlier.count)"
              + " \(earlier.type.rawValue), then \(storage.count) \(storage.type.rawValue) for"
              + " tensor \(key))")
        }
      } else {
        guard let raw = storages[storage.key] else {
          throw CheckpointError(
            .malformed, path: path,
            reason: "tensor \(key) uses storage \(storage.key), which the file lacks")
        }
        guard raw.count == storage.count * storage.type.byteCount else {
          throw CheckpointError(
            .malformed, path: path,
            reason: "storage \(storage.key) of tensor \(key) has \(raw.count) bytes, but"
              + " \(storage.count) elements of \(storage.type.rawValue) need"
              + " \(storage.count * storage.type.byteCount)")
        }
        let scalars = raw.withUnsafeBytes { storage.type.decode($0, count: storage.count) }
        decoded[storage.key] = (storage, scalars)
      }
      tensors[key] = try Self.tensor(
        reference, from: decoded[storage.key]!.scalars, key: key, path: path)
      storedTypes[key] = storage.type
    }
    self.keys = entries.map(\.0)
    self.tensors = tensors
    self.storedTypes = storedTypes
  }

  /// The most elements one tensor may have (2³¹, 8 GiB of Float32): a view with zero strides
  /// could otherwise ask for any amount of memory from a small storage.
  public static let maximumTensorCount = 1 << 31

  /// Copies the elements of a strided view into a contiguous tensor, after checking that the
  /// view stays inside its storage.
  private static func tensor(
    _ reference: TensorReference, from storage: [Float], key: String, path: String
  ) throws(CheckpointError) -> Tensor {
    let shape = reference.shape
    let base = reference.storage.viewOffset + reference.offset
    if shape.contains(0) { return Tensor(shape: shape, scalars: []) }
    var count = 1
    for extent in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: extent)
      guard !overflow, product <= maximumTensorCount else {
        throw CheckpointError(
          .unsupported, path: path,
          reason: "tensor \(key) has shape \(shape), more than \(maximumTensorCount) elements")
      }
      count = product
    }

    var last = base
    for (extent, stride) in zip(shape, reference.strides) {
      let (step, overflow) = (extent - 1).multipliedReportingOverflow(by: stride)
      let (sum, overflowSum) = last.addingReportingOverflow(step)
      guard !overflow, !overflowSum else { last = Int.max; break }
      last = sum
    }
    guard last < storage.count else {
      throw CheckpointError(
        .malformed, path: path,
        reason: "tensor \(key) (shape \(shape), strides \(reference.strides), offset"
          + " \(reference.offset)) reaches past its storage of \(storage.count) elements")
    }

    var contiguous = true
    var expected = 1
    for (extent, stride) in zip(shape, reference.strides).reversed() where extent != 1 {
      if stride != expected { contiguous = false }
      expected *= extent
    }
    if contiguous { return Tensor(shape: shape, scalars: Array(storage[base..<base + count])) }

    // General strides: walk the index like an odometer, innermost dimension fastest.
    var scalars = [Float]()
    scalars.reserveCapacity(count)
    var index = [Int](repeating: 0, count: shape.count)
    var offset = base
    for _ in 0..<count {
      scalars.append(storage[offset])
      var dimension = shape.count - 1
      while dimension >= 0 {
        index[dimension] += 1
        offset += reference.strides[dimension]
        if index[dimension] < shape[dimension] { break }
        offset -= reference.strides[dimension] * shape[dimension]
        index[dimension] = 0
        dimension -= 1
      }
    }
    return Tensor(shape: shape, scalars: scalars)
  }

  // MARK: The zip format

  private static func readZip(_ bytes: [UInt8], path: String) throws(CheckpointError)
    -> ([(String, TensorReference)], [String: ArraySlice<UInt8>])
  {
    // First the records beside the storages (the pickle, the byte order, versions), with a
    // limit no state_dict's pickle comes near, then only the storages the pickle uses, each of
    // the size it needs, so that no other record is ever unpacked.
    let entries = try ZipArchive.entries(
      of: bytes, path: path, unpackedLimit: min(ZipArchive.defaultUnpackedLimit, 1 << 30)
    ) { name, _ in !isStorageRecord(name) }
    guard
      let pickle = entries.first(where: {
        $0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/").count == 2
      })
    else {
      throw CheckpointError(
        .malformed, path: path,
        reason: "the zip archive has no ARCHIVE/data.pkl, so it was not written by torch.save")
    }
    let prefix = String(pickle.name.dropLast("data.pkl".count))
    if let order = entries.first(where: { $0.name == prefix + "byteorder" }),
      String(decoding: order.contents, as: UTF8.self) != "little"
    {
      throw CheckpointError(
        .unsupported, path: path,
        reason: "storages are stored big-endian; Transmute reads little-endian checkpoints")
    }
    let value: PickleValue
    do {
      value = try Unpickler.load(pickle.contents, path: path).value
    } catch {
      // Name the record inside the archive, keeping the file as the error's path.
      throw CheckpointError(error.kind, path: path, reason: "\(pickle.name): \(error.reason)")
    }
    let tensors = try stateDict(value, path: path)

    var needed: [String: Int] = [:]
    for (_, reference) in tensors {
      needed[reference.storage.key] = reference.storage.count * reference.storage.type.byteCount
    }
    var wrongSize: (key: String, size: UInt64)?
    let storageEntries = try ZipArchive.entries(of: bytes, path: path) { name, size in
      guard name.hasPrefix(prefix + "data/"),
        let need = needed[String(name.dropFirst(prefix.count + 5))]
      else { return false }
      if size != UInt64(need) && wrongSize == nil {
        wrongSize = (String(name.dropFirst(prefix.count + 5)), size)
      }
      return size == UInt64(need)
    }
    if let wrongSize, let tensor = tensors.first(where: { $0.1.storage.key == wrongSize.key }) {
      let storage = tensor.1.storage
      throw CheckpointError(
        .malformed, path: path,
        reason: "storage \(storage.key) of tensor \(tensor.0) has \(wrongSize.size) bytes, but"
          + " \(storage.count) elements of \(storage.type.rawValue) need"
          + " \(storage.count * storage.type.byteCount)")
    }
    var storages: [String: ArraySlice<UInt8>] = [:]
    for entry in storageEntries {
      storages[String(entry.name.dropFirst(prefix.count + 5))] = entry.contents[...]
    }
    for (key, reference) in tensors {
      let storage = reference.storage
      if let raw = storages[storage.key], raw.count != storage.count * storage.type.byteCount {
        throw CheckpointError(
          .malformed, path: path,
          reason: "storage \(storage.key) of tensor \(key) has \(raw.count) bytes, but"
            + " \(storage.count) elements of \(storage.type.rawValue) need"
            + " \(storage.count * storage.type.byteCount)")
      }
    }
    return (tensors, storages)
  }

  /// Whether a record of a `torch.save` zip archive is a storage (`ARCHIVE/data/KEY`), as
  /// opposed to `ARCHIVE/data.pkl`, `ARCHIVE/byteorder` and the like (ARCHIVE may itself be
  /// named `data`).
  static func isStorageRecord(_ name: String) -> Bool {
    let parts = name.split(separator: "/", omittingEmptySubsequences: false)
    return parts.count >= 3 && parts[parts.count - 2] == "data"
  }

  // MARK: The legacy format

  /// The magic number that opens a legacy file, 0x1950a86a20f9469cfc6c, little-endian.
  private static let legacyMagic: [UInt8] = [
    0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
  ]

  private static func readLegacy(_ bytes: [UInt8], path: String) throws(CheckpointError)
    -> ([(String, TensorReference)], [String: ArraySlice<UInt8>])
  {
    // Magic number, protocol version, system information.
    var (value, position) = try Unpickler.load(bytes, path: path)
    guard value == .bigInt(legacyMagic) else {
      throw CheckpointError(
        .malformed, path: path,
        reason: "the file starts with a pickle but not with PyTorch's magic number; it is not"
          + " a torch.save file")
    }
    (value, position) = try Unpickler.load(bytes, from: position, path: path)
    guard value == .int(1001) else {
      throw CheckpointError(
        .unsupported, path: path, reason: "legacy protocol version \(value) (Transmute reads 1001)")
    }
    (value, position) = try Unpickler.load(bytes, from: position, path: path)
    guard case .dict(let systemInformation) = value else {
      throw CheckpointError(.malformed, path: path, reason: "system information is not a dict")
    }
    if let littleEndian = systemInformation.value(forString: "little_endian"),
      littleEndian != .bool(true)
    {
      throw CheckpointError(
        .unsupported, path: path,
        reason: "storages are stored big-endian; Transmute reads little-endian checkpoints")
    }

    // The state_dict, then the storage keys in the order their data follows.
    (value, position) = try Unpickler.load(bytes, from: position, path: path)
    let tensors = try stateDict(value, path: path)
    (value, position) = try Unpickler.load(bytes, from: position, path: path)
    guard case .list(let keyList) = value else {
      throw CheckpointError(.malformed, path: path, reason: "the storage key list is missing")
    }
    var types: [String: StorageReference] = [:]
    for (_, reference) in tensors { types[reference.storage.key] = reference.storage }

    var storages: [String: ArraySlice<UInt8>] = [:]
    for item in keyList.items {
      guard case .string(let key) = item, let storage = types[key] else {
        throw CheckpointError(
          .malformed, path: path, reason: "storage key \(item) is not used by any tensor")
      }
      guard bytes.count - position >= 8 else {
        throw CheckpointError(
          .truncated, path: path,
          reason: "file ends before storage \(key) (at byte \(position) of \(bytes.count)); the"
            + " file is incomplete")
      }
      let count = bytes[position..<position + 8].reversed().reduce(UInt64(0)) {
        $0 << 8 | UInt64($1)
      }
      position += 8
      guard count == UInt64(storage.count) else {
        throw CheckpointError(
          .malformed, path: path,
          reason: "storage \(key) holds \(count) elements but the state_dict says \(storage.count)")
      }
      let size = storage.count * storage.type.byteCount
      guard bytes.count - position >= size else {
        throw CheckpointError(
          .truncated, path: path,
          reason: "file ends inside storage \(key) (needs \(size) bytes at byte \(position), has"
            + " \(bytes.count - position)); the file is incomplete")
      }
      storages[key] = bytes[position..<position + size]
      position += size
    }
    return (tensors, storages)
  }

  // MARK: The state_dict

  /// The (key, tensor) pairs of an unpickled state_dict: a dict or OrderedDict whose keys are
  /// strings and whose values are tensors; a checkpoint that wraps one under "state_dict" is
  /// unwrapped.
  private static func stateDict(_ value: PickleValue, path: String) throws(CheckpointError)
    -> [(String, TensorReference)]
  {
    guard case .dict(let dict) = value else {
      throw CheckpointError(
        .unsupported, path: path,
        reason: "the file holds \(value.kindName), not a state_dict; save model.state_dict()")
    }
    if case .dict? = dict.value(forString: "state_dict") {
      return try stateDict(dict.value(forString: "state_dict")!, path: path)
    }
    var pairs: [(String, TensorReference)] = []
    for (key, item) in dict.entries {
      guard case .string(let name) = key else {
        throw CheckpointError(
          .unsupported, path: path, reason: "state_dict has a key that is \(key.kindName)")
      }
      guard case .tensor(let tensor) = item else {
        throw CheckpointError(
          .unsupported, path: path,
          reason: "state_dict entry \(name) is \(item.kindName), not a tensor; Transmute reads"
            + " files holding a state_dict of tensors")
      }
      pairs.append((name, tensor))
    }
    return pairs
  }
}
