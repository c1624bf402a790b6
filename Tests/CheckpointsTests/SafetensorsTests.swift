import Foundation
import Testing

@testable import Checkpoints
@testable import Tensors

/// The expected contents of `reference.safetensors`, written beside it by the fixture script.
struct ReferenceContents: Decodable {
  struct Entry: Decodable {
    let dtype: String
    let shape: [Int]
    let bits: [UInt32]
  }
  let metadata: [String: String]
  let tensors: [String: Entry]
}

/// Float32 inputs and their 16-bit roundings by numpy (float16) and torch (bfloat16).
private struct RoundingReference: Decodable {
  let inputs: [UInt32]
  let float16: [UInt16]
  let bfloat16: [UInt16]
}

/// The bytes of a safetensors file with the given header text and data.
private func safetensorsBytes(header: String, data: [UInt8]) -> [UInt8] {
  var bytes: [UInt8] = []
  appendLittleEndian(UInt64(header.utf8.count), to: &bytes)
  return bytes + Array(header.utf8) + data
}

@Suite struct SafetensorsTests {
  @Test func readsFileWrittenByPython() throws {
    let reference = try FixturePaths.json("reference_safetensors.json", as: ReferenceContents.self)
    let file = try SafetensorsFile(contentsOf: FixturePaths.fixture("reference.safetensors"))

    #expect(file.metadata == reference.metadata)
    #expect(Set(file.tensors.keys) == Set(reference.tensors.keys))
    for (name, entry) in reference.tensors {
      let tensor = try #require(file.tensors[name], "missing \(name)")
      #expect(tensor.shape == entry.shape, "\(name)")
      #expect(file.storedTypes[name]?.rawValue == entry.dtype, "\(name)")
      let bits = tensor.scalars.map(\.bitPattern)
      let firstDifference = zip(bits, entry.bits).enumerated().first {
        $0.element.0 != $0.element.1
      }
      #expect(bits.count == entry.bits.count, "\(name)")
      #expect(
        firstDifference == nil, "\(name): first difference at \(firstDifference?.offset ?? -1)")
    }
  }

  @Test func roundsLikeNumpyAndTorch() throws {
    let reference = try FixturePaths.json("half_rounding.json", as: RoundingReference.self)
    var halfMismatches: [Int] = []
    var bfloatMismatches: [Int] = []
    for (index, bits) in reference.inputs.enumerated() {
      let value = Float(bitPattern: bits)
      if HalfPrecision.half(from: value) != reference.float16[index] {
        halfMismatches.append(index)
      }
      if HalfPrecision.bfloat(from: value) != reference.bfloat16[index] {
        bfloatMismatches.append(index)
      }
    }
    #expect(halfMismatches.isEmpty, "float16 differs at \(halfMismatches.prefix(5))")
    #expect(bfloatMismatches.isEmpty, "bfloat16 differs at \(bfloatMismatches.prefix(5))")

    // Decoding a rounded value and rounding it again gives the same bits (exact decoding).
    for half in reference.float16 where half & 0x7c00 != 0x7c00 || half & 0x3ff == 0 {
      #expect(HalfPrecision.half(from: HalfPrecision.float(fromHalf: half)) == half)
    }
  }

  @Test(arguments: [StoredScalarType.float32, .float16, .bfloat16])
  func writesAndReadsBack(type: StoredScalarType) throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let original = try SafetensorsFile(contentsOf: FixturePaths.fixture("reference.safetensors"))

    let url = scratch.file("copy.safetensors")
    try original.write(to: url, as: type)
    let copy = try SafetensorsFile(contentsOf: url)

    #expect(copy.metadata == original.metadata)
    #expect(Set(copy.tensors.keys) == Set(original.tensors.keys))
    for (name, tensor) in original.tensors {
      let expected = tensor.scalars.map { value -> Float in
        switch type {
        case .float32: return value
        case .float16: return HalfPrecision.float(fromHalf: HalfPrecision.half(from: value))
        case .bfloat16: return HalfPrecision.float(fromBFloat: HalfPrecision.bfloat(from: value))
        }
      }
      #expect(copy.tensors[name]?.shape == tensor.shape, "\(name)")
      #expect(
        copy.tensors[name]?.scalars.map(\.bitPattern) == expected.map(\.bitPattern), "\(name)")
      #expect(copy.storedTypes[name] == type)
    }

    // The header is padded so that the data starts at a multiple of 8, and no temporary file
    // is left behind.
    let bytes = try [UInt8](Data(contentsOf: url))
    let headerSize = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
    #expect((8 + headerSize) % 8 == 0)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["copy.safetensors"])
  }

  @Test func refusesMalformedHeaders() {
    let float4 = [UInt8](repeating: 0, count: 16)
    let cases: [(String, [UInt8], CheckpointError.Kind, String)] = [
      (
        #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
        Array(float4[0..<12]), .malformed, "overlap"
      ),
      (
        #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#,
        float4, .malformed, "gap"
      ),
      (
        #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, Array(float4[0..<8]),
        .malformed, "needs 12 bytes"
      ),
      (
        #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, Array(float4[0..<12]),
        .truncated, "needs 16 bytes"
      ),
      (
        #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, float4, .malformed,
        "cover 8 bytes"
      ),
      (
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
        Array(float4[0..<8]), .malformed, "duplicate key"
      ),
      (
        #"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, Array(float4[0..<8]),
        .unsupported, "I64"
      ),
      (
        #"{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#, Array(float4[0..<4]),
        .malformed, "not a size"
      ),
      (
        #"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, Array(float4[0..<4]),
        .malformed, "not a size"
      ),
      (
        #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, Array(float4[0..<4]),
        .malformed, "not a size"
      ),
      (
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, Array(float4[0..<4]),
        .malformed, "end before"
      ),
      (
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, Array(float4[0..<4]),
        .malformed, "unexpected field"
      ),
      (#"{"a":{"dtype":"F32","shape":[1]}}"#, [], .malformed, "needs dtype"),
      (#"{"__metadata__":{"n":1}}"#, [], .malformed, "expected a string"),
      (
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x"#, Array(float4[0..<4]),
        .malformed, "after the value"
      ),
      (
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#, Array(float4[0..<4]),
        .malformed, "invalid"
      ),
      (#"[1]"#, [], .malformed, "JSON object"),
      (
        #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#,
        Array(float4[0..<4]), .malformed, "too large"
      ),
    ]
    for (header, data, kind, fragment) in cases {
      expectCheckpointError(kind, mentioning: fragment) {
        _ = try SafetensorsFile(bytes: safetensorsBytes(header: header, data: data), path: "x")
      }
    }
  }

  @Test func refusesBadHeaderLengths() {
    expectCheckpointError(.truncated, mentioning: "too short") {
      _ = try SafetensorsFile(bytes: [1, 0, 0], path: "short.safetensors")
    }
    var huge: [UInt8] = []
    appendLittleEndian(UInt64(1) << 40, to: &huge)
    expectCheckpointError(.malformed, mentioning: "exceeds the limit") {
      _ = try SafetensorsFile(bytes: huge + [0x7b, 0x7d], path: "huge.safetensors")
    }
    var long: [UInt8] = []
    appendLittleEndian(UInt64(100), to: &long)
    expectCheckpointError(.truncated, mentioning: "declares 100 bytes") {
      _ = try SafetensorsFile(bytes: long + Array("{}".utf8), path: "long.safetensors")
    }
  }

  @Test func truncatedFixtureNamesTheFile() throws {
    let bytes = try [UInt8](Data(contentsOf: FixturePaths.fixture("reference.safetensors")))
    expectCheckpointError(.truncated, mentioning: "bytes") {
      _ = try SafetensorsFile(bytes: Array(bytes.dropLast(10)), path: "cut.safetensors")
    }
    do {
      _ = try SafetensorsFile(bytes: Array(bytes.dropLast(10)), path: "cut.safetensors")
    } catch {
      #expect(error.description.hasPrefix("cut.safetensors: "))
    }
  }

  @Test func foldersFIFOsAndLinkLoopsAreNamedNotMisreported() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let folder = scratch.file("folder.safetensors")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let fifo = scratch.file("fifo.pth")
    #expect(mkfifo(fifo.path, 0o644) == 0)
    let loop = scratch.file("loop.safetensors")
    try FileManager.default.createSymbolicLink(
      atPath: loop.path, withDestinationPath: "loop.safetensors")

    // Foundation called the folder an unknown error and the FIFO "Permission denied".
    expectCheckpointError(.unreadable, mentioning: "cannot read the file: it is a folder") {
      _ = try SafetensorsFile(contentsOf: folder)
    }
    expectCheckpointError(.unreadable, mentioning: "cannot read the file: it is a FIFO") {
      _ = try PyTorchCheckpoint(contentsOf: fifo)
    }
    expectCheckpointError(
      .unreadable, mentioning: "cannot read the file: Too many levels of symbolic links"
    ) {
      _ = try SafetensorsFile(contentsOf: loop)
    }
  }

  @Test func missingFileAndUnwritableFolder() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    expectCheckpointError(.unreadable, mentioning: "cannot read the file: No such file") {
      _ = try SafetensorsFile(contentsOf: scratch.file("absent.safetensors"))
    }
    let file = SafetensorsFile(tensors: ["x": Tensor(shape: [1], scalars: [1])])
    expectCheckpointError(.unwritable, mentioning: "temporary file") {
      try file.write(to: scratch.file("no/such/folder/x.safetensors"))
    }

    // A failed write leaves an existing destination as it was.
    let url = scratch.file("kept.safetensors")
    try file.write(to: url)
    let before = try Data(contentsOf: url)
    try FileManager.default.setAttributes(
      [.posixPermissions: 0o500], ofItemAtPath: scratch.url.path)
    defer {
      try? FileManager.default.setAttributes(
        [.posixPermissions: 0o700], ofItemAtPath: scratch.url.path)
    }
    if getuid() != 0 {
      expectCheckpointError(.unwritable, mentioning: "temporary file") {
        try SafetensorsFile(tensors: ["y": Tensor(shape: [2], scalars: [1, 2])]).write(to: url)
      }
      #expect(try Data(contentsOf: url) == before)
    }
  }

  @Test func fileErrorsAreWordedAsTheSystemWordsThem() {
    let posix = NSError(domain: NSPOSIXErrorDomain, code: Int(EACCES))
    #expect(fileErrorReason(posix) == "Permission denied")
    let wrapped = NSError(
      domain: NSCocoaErrorDomain, code: CocoaError.Code.fileWriteUnknown.rawValue,
      userInfo: [NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(ENOTDIR))])
    #expect(fileErrorReason(wrapped) == "Not a directory")
    let cocoa = NSError(
      domain: NSCocoaErrorDomain, code: CocoaError.Code.fileReadNoSuchFile.rawValue)
    #expect(fileErrorReason(cocoa) == "No such file or directory")
    let blocker = FileManager.default.temporaryDirectory.appendingPathComponent(
      "FileErrorReason-\(UUID().uuidString)")
    #expect(FileManager.default.createFile(atPath: blocker.path, contents: Data([1])))
    defer { try? FileManager.default.removeItem(at: blocker) }
    let below = NSError(
      domain: NSCocoaErrorDomain, code: CocoaError.Code.fileWriteUnknown.rawValue,
      userInfo: [NSFilePathErrorKey: blocker.path + "/a/b"])
    #expect(fileErrorReason(below) == "\(blocker.path) is a file, not a folder")
    let other = NSError(
      domain: "Elsewhere", code: 7, userInfo: [NSLocalizedDescriptionKey: "kept as it is"])
    #expect(fileErrorReason(other) == "kept as it is")
  }
}
