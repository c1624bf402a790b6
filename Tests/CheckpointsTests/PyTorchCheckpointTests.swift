import Foundation
import Testing

@testable import Checkpoints
@testable import Tensors

/// The generator fixtures: name, residual blocks, dropout, whether stored as float16.
let generatorFixtures: [(name: String, blocks: Int, dropout: Bool, half: Bool)] = [
  ("resnet9", 9, false, false), ("resnet9_dropout", 9, true, false),
  ("resnet6", 6, false, false), ("resnet6_dropout", 6, true, true),
]

/// Expects `actual` to equal `expected` key for key and bit for bit, naming the first difference.
func expectIdentical(
  _ actual: [String: Tensor], _ expected: [String: Tensor], _ label: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    Set(actual.keys) == Set(expected.keys),
    "\(label): keys differ: \(Set(actual.keys).symmetricDifference(expected.keys).sorted())",
    sourceLocation: sourceLocation)
  for (key, want) in expected {
    guard let got = actual[key] else { continue }
    #expect(
      got.shape == want.shape, "\(label) \(key): shape \(got.shape) vs \(want.shape)",
      sourceLocation: sourceLocation)
    let firstDifference = zip(got.scalars, want.scalars).enumerated().first {
      $0.element.0.bitPattern != $0.element.1.bitPattern
    }
    let detail = firstDifference.map { "\($0.element.0) vs \($0.element.1)" } ?? "counts differ"
    #expect(
      got.scalars.count == want.scalars.count && firstDifference == nil,
      "\(label) \(key): first difference at \(firstDifference?.offset ?? -1): \(detail)",
      sourceLocation: sourceLocation)
  }
}

@Suite struct PyTorchCheckpointTests {
  @Test(arguments: ["views", "views_legacy"])
  func readsViewsWithOffsetsAndStrides(name: String) throws {
    let checkpoint = try PyTorchCheckpoint(contentsOf: FixturePaths.fixture("\(name).pth"))
    let expected = try SafetensorsFile(
      contentsOf: FixturePaths.fixture("views_expected.safetensors"))
    expectIdentical(checkpoint.tensors, expected.tensors, name)
    #expect(checkpoint.format == (name == "views" ? .zip : .legacy))
    #expect(
      checkpoint.keys == [
        "sliced", "transposed", "strided", "whole", "half", "scalar", "expanded_row", "broadcast",
      ])
    #expect(checkpoint.storedTypes["half"] == .float16)
    #expect(checkpoint.storedTypes["whole"] == .float32)
  }

  @Test(
    arguments: generatorFixtures.flatMap { [($0.name, $0.half), ($0.name + "_legacy", $0.half)] })
  func readsGenerators(name: String, half: Bool) throws {
    let checkpoint = try PyTorchCheckpoint(contentsOf: FixturePaths.fixture("\(name).pth"))
    let reference = name.replacingOccurrences(of: "_legacy", with: "")
    let expected = try SafetensorsFile(contentsOf: FixturePaths.fixture("\(reference).safetensors"))
    expectIdentical(checkpoint.tensors, expected.tensors, name)
    #expect(checkpoint.keys.first == "model.1.weight")
    #expect(Set(checkpoint.storedTypes.values) == [half ? .float16 : .float32])
  }
}

extension PyTorchCheckpointTests {
  @Test(arguments: ["forbidden", "forbidden_legacy"])
  func refusesForbiddenGlobals(name: String) {
    expectCheckpointError(.forbiddenGlobal, mentioning: "posix.system") {
      _ = try PyTorchCheckpoint(contentsOf: FixturePaths.fixture("\(name).pth"))
    }
  }

  @Test(arguments: ["resnet9", "resnet9_legacy", "views", "views_legacy"])
  func truncatedFilesGiveClearErrors(name: String) throws {
    let bytes = try [UInt8](Data(contentsOf: FixturePaths.fixture("\(name).pth")))
    for kept in [bytes.count - 1, bytes.count - 100, bytes.count / 2, 200, 40, 4] {
      do {
        _ = try PyTorchCheckpoint(bytes: Array(bytes[0..<kept]), path: "cut.pth")
        Issue.record("\(name) cut to \(kept) of \(bytes.count) bytes was accepted")
      } catch {
        #expect(error.kind == .truncated, "\(name) cut to \(kept): \(error)")
        #expect(error.description.hasPrefix("cut.pth: "))
        #expect(error.reason.contains("incomplete") || error.reason.contains("ends"), "\(error)")
      }
    }
    expectCheckpointError(.truncated, mentioning: "empty") {
      _ = try PyTorchCheckpoint(bytes: [], path: "empty.pth")
    }
    expectCheckpointError(.malformed, mentioning: "not a PyTorch checkpoint") {
      _ = try PyTorchCheckpoint(bytes: Array("hello, world".utf8), path: "text.pth")
    }
  }

  @Test func readsPython2StringsAndGPUStorageNames() throws {
    // {"abc": 1, "d": 'cuda storage class'} with Python 2's SHORT_BINSTRING and BINSTRING keys.
    let pickle: [UInt8] =
      [0x80, 0x02, UInt8(ascii: "}"), UInt8(ascii: "("), UInt8(ascii: "U"), 3]
      + Array("abc".utf8) + [UInt8(ascii: "K"), 1, UInt8(ascii: "T"), 1, 0, 0, 0]
      + Array("d".utf8) + [UInt8(ascii: "c")] + Array("torch.cuda\nHalfStorage\n".utf8)
      + [UInt8(ascii: "u"), UInt8(ascii: ".")]
    let value = try Unpickler.load(pickle, path: "py2").value
    guard case .dict(let dict) = value else {
      Issue.record("not a dict: \(value.kindName)")
      return
    }
    #expect(dict.value(forString: "abc") == .int(1))
    #expect(dict.value(forString: "d") == .global(.storage(.float16)))
  }

  @Test func refusesUnknownOpcodesAndBadPickles() {
    // A legacy-looking stream whose first pickle uses an opcode outside the allowed set (INST).
    expectCheckpointError(.unsupported, mentioning: "opcode 0x69") {
      _ = try PyTorchCheckpoint(bytes: [0x80, 0x02, 0x69] + Array("os\nsystem\n".utf8), path: "x")
    }
    // A GLOBAL of something harmless but unneeded is refused too.
    expectCheckpointError(.forbiddenGlobal, mentioning: "builtins.print") {
      _ = try PyTorchCheckpoint(
        bytes: [0x80, 0x02, UInt8(ascii: "c")] + Array("builtins\nprint\n".utf8), path: "x")
    }
    // A legacy stream that is a pickle but not PyTorch's.
    expectCheckpointError(.malformed, mentioning: "magic number") {
      _ = try PyTorchCheckpoint(bytes: [0x80, 0x02, 0x4b, 0x05, 0x2e], path: "x")
    }
    // Stack underflow.
    expectCheckpointError(.malformed, mentioning: "stack underflow") {
      _ = try PyTorchCheckpoint(bytes: [0x80, 0x02, 0x85, 0x2e], path: "x")
    }
  }

  @Test func refusesValuesNestedTooDeepInsteadOfOverflowingTheStack() throws {
    let proto: [UInt8] = [0x80, 0x02]
    let stop = UInt8(ascii: ".")
    let count = 1_000_000
    // A million lists, each appended to the one below: freeing them recursed a million deep.
    let lists =
      proto + [UInt8](repeating: UInt8(ascii: "]"), count: count)
      + [UInt8](repeating: UInt8(ascii: "a"), count: count - 1) + [stop]
    expectCheckpointError(.malformed, mentioning: "more than 100 containers deep") {
      _ = try Unpickler.load(lists, path: "deep")
    }
    // Tuples nested through MARKs, and the same inside a legacy file.
    let tuples =
      proto + [UInt8](repeating: UInt8(ascii: "("), count: count) + [UInt8(ascii: ")")]
      + [UInt8](repeating: UInt8(ascii: "t"), count: count) + [stop]
    expectCheckpointError(.malformed, mentioning: "more than 100 containers deep") {
      _ = try PyTorchCheckpoint(bytes: tuples, path: "deep")
    }

    // Exactly at the limit is still a value (here a dict holding 99 nested lists).
    let limit = Unpickler.maximumNesting
    let atLimit =
      proto + [UInt8(ascii: "}"), UInt8(ascii: "K"), 1]
      + [UInt8](repeating: UInt8(ascii: "]"), count: limit - 1)
      + [UInt8](repeating: UInt8(ascii: "a"), count: limit - 2) + [UInt8(ascii: "s"), stop]
    guard case .dict(let dict) = try Unpickler.load(atLimit, path: "limit").value else {
      Issue.record("a dict was expected")
      return
    }
    #expect(dict.depth == limit)
  }

  @Test func refusesCyclesAndContainersFilledAfterNesting() {
    let (proto, stop) = ([UInt8]([0x80, 0x02]), UInt8(ascii: "."))
    let (list, put, get, append) = (
      UInt8(ascii: "]"), UInt8(ascii: "q"), UInt8(ascii: "h"), UInt8(ascii: "a")
    )
    // A list appended to itself.
    expectCheckpointError(.malformed, mentioning: "a list is placed inside itself") {
      _ = try Unpickler.load(proto + [list, put, 0, get, 0, append, stop], path: "cycle")
    }
    // L0 goes into L1, then L1 into L0: a cycle through a list that is already nested; with
    // fills after nesting allowed, chains of any depth could also be built from short lists.
    let later = proto + [list, put, 0, list, put, 1, get, 0, append, 0x30, get, 1, append, stop]
    expectCheckpointError(.malformed, mentioning: "a list is filled after it was nested") {
      _ = try Unpickler.load(later, path: "cycle")
    }
    // A dict keyed by a tuple: keys are compared on each insertion.
    let tupleKey = proto + [UInt8(ascii: "}"), UInt8(ascii: ")"), 0x4b, 1, UInt8(ascii: "s"), stop]
    expectCheckpointError(.malformed, mentioning: "a dict key is a tuple") {
      _ = try Unpickler.load(tupleKey, path: "key")
    }
  }

  @Test func unpacksOnlyTheStoragesThePickleUsesAtTheSizeTheyNeed() throws {
    // views.pth's records, renamed as torch.save names them for a file called data.pth
    // (the archive folder is then "data"), plus a record no tensor uses.
    let original = try [UInt8](Data(contentsOf: FixturePaths.fixture("views.pth")))
    let records = try ZipArchive.entries(of: original, path: "views.pth")
    let prefix = try #require(records.first { $0.name.hasSuffix("/data.pkl") }).name
      .dropLast("data.pkl".count)
    var renamed = records.map {
      ZipArchive.Entry(name: "data/" + $0.name.dropFirst(prefix.count), contents: $0.contents)
    }
    renamed.append(ZipArchive.Entry(name: "data/data/unused", contents: [1, 2, 3]))
    let archive = try ZipArchive.archive(renamed, path: "data.pth")
    let expected = try SafetensorsFile(
      contentsOf: FixturePaths.fixture("views_expected.safetensors"))
    expectIdentical(
      try PyTorchCheckpoint(bytes: archive, path: "data.pth").tensors,
      expected.tensors, "data.pth")

    // Only the records the filter keeps are unpacked, and only they count towards the limit.
    let kept = try ZipArchive.entries(of: archive, path: "data.pth", unpackedLimit: 3) {
      name, size in name == "data/data/unused" && size == 3
    }
    #expect(kept.map(\.name) == ["data/data/unused"])
    #expect(PyTorchCheckpoint.isStorageRecord("data/data/0"))
    #expect(!PyTorchCheckpoint.isStorageRecord("data/data.pkl"))
    #expect(!PyTorchCheckpoint.isStorageRecord("archive/.data/version"))

    // A storage record of the wrong size is reported from its header, by tensor.
    let pickleRecord = try #require(renamed.first { $0.name == "data/data.pkl" })
    let storageRecord = try #require(
      renamed.first { $0.name.hasPrefix("data/data/") && $0.name != "data/data/unused" })
    let short = try ZipArchive.archive(
      [pickleRecord, ZipArchive.Entry(name: storageRecord.name, contents: [0, 0])],
      path: "short.pth")
    expectCheckpointError(.malformed, mentioning: "has 2 bytes, but") {
      _ = try PyTorchCheckpoint(bytes: short, path: "short.pth")
    }
  }

  @Test func oldDataParallelFileIsNormalizedAsTheReferenceLoaderDoes() throws {
    let old = try PyTorchCheckpoint(contentsOf: FixturePaths.fixture("old_dataparallel_legacy.pth"))
    let reference = try SafetensorsFile(contentsOf: FixturePaths.fixture("resnet6.safetensors"))
    #expect(old.keys.allSatisfy { $0.hasPrefix("module.") })

    let (kept, dropped) = ReferenceKeys.normalized(old.tensors)
    #expect(Set(kept.keys) == Set(reference.tensors.keys))
    #expect(dropped.count == 17 * 3)
    #expect(dropped.contains("module.model.10.conv_block.6.running_var"))
    #expect(dropped.allSatisfy { $0.hasPrefix("module.") })

    let layout = try ResnetGeneratorLayout(inferringFrom: kept.mapValues(\.shape), path: "old")
    #expect(layout.blocks == 6 && layout.ngf == 2 && !layout.dropout)
  }

  @Test func batchNormStatisticsAreKept() {
    let entries = [
      "bn.weight": 1, "bn.bias": 2, "bn.running_mean": 3, "bn.num_batches_tracked": 4,
      "in.running_mean": 5, "in.running_var": 6,
    ]
    let (kept, dropped) = ReferenceKeys.normalized(entries)
    #expect(
      kept == ["bn.weight": 1, "bn.bias": 2, "bn.running_mean": 3, "bn.num_batches_tracked": 4])
    #expect(dropped == ["in.running_mean", "in.running_var"])
    // A prefix on only some keys is left alone.
    #expect(ReferenceKeys.normalized(["module.a": 1, "b": 2]).entries == ["module.a": 1, "b": 2])
  }

  @Test func stateDictOrderFollowsTheReference() throws {
    let layouts = try FixturePaths.json("layouts.json", as: [ReferenceLayoutFixture].self)
    for layout in layouts {
      #expect(ReferenceKeys.stateDictOrder(layout.keys.shuffled()) == layout.keys)
    }
  }
}

/// A reference generator's state_dict keys and shapes, from the fixture script.
struct ReferenceLayoutFixture: Decodable {
  let blocks: Int
  let ngf: Int
  let dropout: Bool
  let norm: String
  let input_channels: Int
  let output_channels: Int
  let keys: [String]
  let shapes: [[Int]]
  let parameters: Int

  var shapeMap: [String: [Int]] { Dictionary(uniqueKeysWithValues: zip(keys, shapes)) }
}

@Suite struct PyTorchWriterTests {
  /// The reference tensors of a generator fixture, in the reference's key order.
  func orderedTensors(_ name: String) throws -> [(key: String, tensor: Tensor)] {
    let file = try SafetensorsFile(contentsOf: FixturePaths.fixture("\(name).safetensors"))
    return ReferenceKeys.stateDictOrder(file.tensors.keys).map { ($0, file.tensors[$0]!) }
  }

  @Test(arguments: [StoredScalarType.float32, .float16])
  func roundTripGivesIdenticalTensors(type: StoredScalarType) throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let original = try PyTorchCheckpoint(
      contentsOf: FixturePaths.fixture("resnet9_dropout_legacy.pth"))
    let url = scratch.file("exported.pth")
    try PyTorchCheckpoint.write(
      original.keys.map { ($0, original.tensors[$0]!) }, to: url, as: type)

    let copy = try PyTorchCheckpoint(contentsOf: url)
    #expect(copy.format == .zip)
    #expect(copy.keys == original.keys)
    let expected = original.tensors.mapValues { tensor in
      type == .float32
        ? tensor
        : Tensor(
          shape: tensor.shape,
          scalars: tensor.scalars.map {
            HalfPrecision.float(fromHalf: HalfPrecision.half(from: $0))
          })
    }
    expectIdentical(copy.tensors, expected, "round trip \(type)")
    #expect(Set(copy.storedTypes.values) == [type == .float32 ? .float32 : .float16])
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["exported.pth"])
  }

  @Test func writesScalarsAndEmptyTensors() throws {
    let entries: [(key: String, tensor: Tensor)] = [
      ("scalar", Tensor(shape: [], scalars: [3])),
      ("empty", Tensor(shape: [0, 3], scalars: [])),
      ("big", Tensor(shape: [300, 301], scalars: (0..<90300).map { Float($0) })),
    ]
    let bytes = try PyTorchCheckpoint.encoded(entries, integerKeys: ["scalar"], path: "x.pth")
    let copy = try PyTorchCheckpoint(bytes: bytes, path: "x.pth")
    #expect(copy.keys == ["scalar", "empty", "big"])
    #expect(copy.storedTypes["scalar"] == .int64 && copy.storedTypes["big"] == .float32)
    expectIdentical(
      copy.tensors, Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.tensor) }),
      "odd shapes")
  }
}
