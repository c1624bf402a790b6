import Foundation
import Tensors

extension PyTorchCheckpoint {
  /// The bytes of a zip-format checkpoint holding `entries` as an `OrderedDict` state_dict, in
  /// the given order, each tensor contiguous in its own storage of `type`. `torch.load` reads it
  /// with `weights_only=True`: the pickle names only `collections.OrderedDict`,
  /// `torch._utils._rebuild_tensor_v2` and the storage class.
  ///
  /// The tensors named in `integerKeys` (counters such as batch norm's `num_batches_tracked`,
  /// int64 in PyTorch) are stored as int64 storages, their values rounded to whole numbers.
  ///
  /// The archive holds `archive/data.pkl`, `archive/byteorder`, `archive/data/0…` and
  /// `archive/version`, stored without compression. `path` names the destination in errors.
  public static func encoded(
    _ entries: [(key: String, tensor: Tensor)], as type: StoredScalarType = .float32,
    integerKeys: Set<String> = [], path: String
  ) throws(CheckpointError) -> [UInt8] {
    var pickle = PickleWriter()
    pickle.protocolHeader()
    pickle.global(module: "collections", name: "OrderedDict")
    pickle.emptyTupleCall()
    pickle.mark()
    for (index, entry) in entries.enumerated() {
      pickle.string(entry.key)
      pickle.global(module: "torch._utils", name: "_rebuild_tensor_v2")
      pickle.mark()

      // The storage, by persistent id: ('storage', class, key, location, element count).
      pickle.mark()
      pickle.string("storage")
      let isInteger = integerKeys.contains(entry.key)
      pickle.global(
        module: "torch",
        name: isInteger ? TorchStorageType.int64.rawValue : storageClass(type))
      pickle.string(String(index))
      pickle.string("cpu")
      pickle.integer(entry.tensor.scalars.count)
      pickle.tuple()
      pickle.persistentID()

      // Offset, shape, contiguous strides, requires_grad, backward hooks.
      pickle.integer(0)
      pickle.mark()
      for extent in entry.tensor.shape { pickle.integer(extent) }
      pickle.tuple()
      pickle.mark()
      var strides: [Int] = []
      var stride = 1
      for extent in entry.tensor.shape.reversed() {
        strides.insert(stride, at: 0)
        stride *= max(extent, 1)
      }
      for value in strides { pickle.integer(value) }
      pickle.tuple()
      pickle.bool(false)
      pickle.global(module: "collections", name: "OrderedDict")
      pickle.emptyTupleCall()
      pickle.tuple()
      pickle.reduce()
    }
    pickle.setItems()
    pickle.stop()

    var records = [ZipArchive.Entry(name: "archive/data.pkl", contents: pickle.bytes)]
    records.append(ZipArchive.Entry(name: "archive/byteorder", contents: Array("little".utf8)))
    for (index, entry) in entries.enumerated() {
      var data: [UInt8] = []
      if integerKeys.contains(entry.key) {
        for value in entry.tensor.scalars {
          appendLittleEndian(Int64(exactly: value.rounded()) ?? 0, to: &data)
        }
      } else {
        type.encode(entry.tensor.scalars, into: &data)
      }
      records.append(ZipArchive.Entry(name: "archive/data/\(index)", contents: data))
    }
    records.append(ZipArchive.Entry(name: "archive/version", contents: Array("3\n".utf8)))
    return try ZipArchive.archive(records, path: path)
  }

  /// Writes `entries` atomically to `url` as a zip-format checkpoint (see `encoded`).
  public static func write(
    _ entries: [(key: String, tensor: Tensor)], to url: URL, as type: StoredScalarType = .float32,
    integerKeys: Set<String> = []
  ) throws(CheckpointError) {
    try AtomicFile.write(
      encoded(entries, as: type, integerKeys: integerKeys, path: url.path), to: url)
  }

  private static func storageClass(_ type: StoredScalarType) -> String {
    switch type {
    case .float32: return TorchStorageType.float32.rawValue
    case .float16: return TorchStorageType.float16.rawValue
    case .bfloat16: return TorchStorageType.bfloat16.rawValue
    }
  }
}

/// Emits the few protocol-2 pickle opcodes a state_dict needs.
struct PickleWriter {
  private(set) var bytes: [UInt8] = []

  mutating func protocolHeader() { bytes += [0x80, 2] }
  mutating func mark() { bytes.append(UInt8(ascii: "(")) }
  mutating func tuple() { bytes.append(UInt8(ascii: "t")) }
  mutating func reduce() { bytes.append(UInt8(ascii: "R")) }
  mutating func persistentID() { bytes.append(UInt8(ascii: "Q")) }
  mutating func setItems() { bytes.append(UInt8(ascii: "u")) }
  mutating func stop() { bytes.append(UInt8(ascii: ".")) }
  mutating func bool(_ value: Bool) { bytes.append(value ? 0x88 : 0x89) }

  /// Calls the callable on top of the stack with no arguments.
  mutating func emptyTupleCall() { bytes += [UInt8(ascii: ")"), UInt8(ascii: "R")] }

  mutating func global(module: String, name: String) {
    bytes.append(UInt8(ascii: "c"))
    bytes += Array("\(module)\n\(name)\n".utf8)
  }

  mutating func string(_ text: String) {
    let utf8 = Array(text.utf8)
    bytes.append(UInt8(ascii: "X"))
    appendLittleEndian(UInt32(utf8.count), to: &bytes)
    bytes += utf8
  }

  mutating func integer(_ value: Int) {
    if (0..<256).contains(value) {
      bytes += [UInt8(ascii: "K"), UInt8(value)]
    } else if (0..<65536).contains(value) {
      bytes.append(UInt8(ascii: "M"))
      appendLittleEndian(UInt16(value), to: &bytes)
    } else if let small = Int32(exactly: value) {
      bytes.append(UInt8(ascii: "J"))
      appendLittleEndian(small, to: &bytes)
    } else {
      bytes += [0x8a, 8]
      appendLittleEndian(Int64(value), to: &bytes)
    }
  }
}
