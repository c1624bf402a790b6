import Foundation
import ImageIO
import Tensors
import Testing

@testable import Translation

/// The fixture tree copied to a fresh folder, plus the two entries git does not carry well: a
/// dangling symbolic link and a file whose name is not UTF-8 (Latin-1 `café.png`).
func makeInputTree() throws -> (root: FilePath, nonUTF8: FilePath) {
  let root = temporaryFolder().appending("input")
  try FileManager.default.copyItem(
    atPath: fixturesFolder.appending("tree").description, toPath: root.description)
  let dangling = root.appending("nested/dangling.png")
  #expect(dangling.withCString { symlink("no-such-target.png", $0) } == 0)
  let nonUTF8 = FilePath(bytes: Array("nested/caf".utf8) + [0xE9] + Array(".png".utf8))
  let bytes = try #require(fileBytes(root.appending("odd.png")))
  try writeAtomically(bytes, to: root.appending(nonUTF8))
  return (root, nonUTF8)
}

/// The good files of the tree: where the output goes and what the input looks like upright.
struct ExpectedOutput {
  var input: FilePath
  var output: FilePath
  var width: Int
  var height: Int
  var format: ImageFormat
}

@Test func translatesAMixedTreeAndListsEveryBadFile() throws {
  let (root, nonUTF8) = try makeInputTree()
  let output = root.parent.appending("output")
  let before = snapshot(root)

  let plan = try TranslationPlanner.plan(input: root, output: output, format: nil)
  let translator = InvertingTranslator()
  let bulk = BulkTranslation(
    translation: ImageTranslation(translator: translator, options: .init()))
  let events = EventLog()
  let summary = bulk.run(plan, with: translator) { events.append($0) }

  // Every good file translated, at its own (upright) size, in its own format.
  let good: [ExpectedOutput] = [
    .init(input: "odd.png", output: "odd.png", width: 37, height: 23, format: .png),
    .init(input: nonUTF8, output: nonUTF8, width: 37, height: 23, format: .png),
    .init(
      input: "nested/photo.jpg", output: "nested/photo.jpg", width: 40, height: 28, format: .jpeg),
    .init(input: "nested/grey.png", output: "nested/grey.png", width: 33, height: 17, format: .png),
    .init(
      input: "nested/deeper/grey.jpg", output: "nested/deeper/grey.jpg", width: 24, height: 24,
      format: .jpeg),
    .init(
      input: "nested/rotated.jpg", output: "nested/rotated.jpg", width: 20, height: 32,
      format: .jpeg),
    .init(input: "mixed/rgba.png", output: "mixed/rgba.png", width: 29, height: 21, format: .png),
    .init(
      input: "mixed/deep16.png", output: "mixed/deep16.png", width: 19, height: 13, format: .png),
    .init(
      input: "mixed/really_png.jpg", output: "mixed/really_png.png", width: 26, height: 18,
      format: .png),
  ]
  #expect(summary.translated == good.count)
  #expect(summary.skipped == 0)
  #expect(translator.shapesSeen.count == good.count)

  for expected in good {
    let source = try Image(contentsOf: root.appending(expected.input))
    let result = try Image(contentsOf: output.appending(expected.output))
    #expect(result.width == expected.width && result.height == expected.height, "\(expected.input)")
    #expect(result.format == expected.format, "\(expected.output)")
    // A grey input becomes RGB (the model is RGB); alpha and 16 bits are carried through.
    #expect(result.colorChannels == 3, "\(expected.output)")
    #expect(result.alpha == source.alpha, "\(expected.output): alpha not carried through")
    #expect(
      result.bitDepth == (expected.input == "mixed/deep16.png" ? 16 : 8), "\(expected.output)")

    // The translation is the inversion: 1 - v per channel, within the rounding of the file
    // (PNG, 8 or 16 bits) or JPEG's loss.
    let inverted = source.tensor(channels: 3).scalars.map { (1 - $0) / 2 }
    let worst = worstDifference(result.pixels, inverted)
    let meanError =
      zip(result.pixels, inverted).map { abs($0 - $1) }.reduce(0, +) / Float(inverted.count)
    let tolerance: Float =
      expected.format == .png ? (source.bitDepth == 16 ? 1e-4 : 0.6 / 255) : 0.25
    #expect(
      worst.value <= tolerance && (expected.format == .png || meanError < 0.02),
      "\(expected.output): worst \(worst.value) at \(worst.index), mean \(meanError)")
  }

  // Every bad file listed with its reason; the text file that is not an image name is ignored.
  let failures = Dictionary(
    uniqueKeysWithValues: summary.failures.map { ($0.input.lastComponent.description, $0.reason) })
  #expect(failures.count == 4, "\(failures)")
  #expect(failures["truncated.png"]?.contains("damaged PNG") == true, "\(failures)")
  #expect(failures["empty.jpg"]?.contains("empty") == true, "\(failures)")
  #expect(failures["not_an_image.png"]?.contains("not a PNG or JPEG") == true, "\(failures)")
  #expect(failures["dangling.png"]?.contains("dangling") == true, "\(failures)")
  #expect(summary.exitStatus != 0)
  #expect(events.count == good.count + 4)

  // The inputs are byte for byte as they were, and nothing was added to their folder.
  #expect(snapshot(root) == before)
}

@Test func skipExistingLeavesDoneFilesAlone() throws {
  let (root, _) = try makeInputTree()
  let output = root.parent.appending("output")
  let plan = try TranslationPlanner.plan(input: root, output: output, format: .png)
  let translator = InvertingTranslator()
  let first = BulkTranslation(
    translation: ImageTranslation(translator: translator, options: .init()))
  let firstSummary = first.run(plan, with: translator)
  #expect(firstSummary.translated == 9)

  let again = BulkTranslation(
    translation: ImageTranslation(translator: translator, options: .init(skipExisting: true)))
  let secondSummary = again.run(plan, with: translator)
  #expect(secondSummary.translated == 0 && secondSummary.skipped == 9)
  #expect(secondSummary.failed == firstSummary.failed)
}

@Test func keepGreyWritesGreyAndCompareWritesBothSides() throws {
  let folder = temporaryFolder()
  let input = fixturesFolder.appending("tree/nested/grey.png")
  let output = folder.appending("grey_out.png")
  let plan = try TranslationPlanner.plan(input: input, output: output, format: nil, compare: true)
  #expect(plan.files.map(\.comparison) == [folder.appending("grey_out_compare.png")])
  let translator = InvertingTranslator()
  let bulk = BulkTranslation(
    translation: ImageTranslation(translator: translator, options: .init(keepGrey: true)))
  let summary = bulk.run(plan, with: translator)
  #expect(summary.translated == 1 && summary.failed == 0)

  let source = try Image(contentsOf: input)
  let result = try Image(contentsOf: output)
  #expect(result.colorChannels == 1 && result.width == 33 && result.height == 17)
  let worst = worstDifference(result.pixels, source.pixels.map { 1 - $0 })
  #expect(worst.value <= 0.6 / 255, "worst \(worst.value) at \(worst.index)")

  let comparison = try Image(contentsOf: folder.appending("grey_out_compare.png"))
  #expect(comparison.width == 66 && comparison.height == 17)
  #expect(comparison.sample(channel: 0, x: 5, y: 3) == source.sample(channel: 0, x: 5, y: 3))
  #expect(
    abs(comparison.sample(channel: 0, x: 38, y: 3) - (1 - source.sample(channel: 0, x: 5, y: 3)))
      <= 0.6 / 255)
}

@Test func alphaIsCompositedOverWhiteForJPEG() throws {
  let folder = temporaryFolder()
  let input = fixturesFolder.appending("tree/mixed/rgba.png")
  let output = folder.appending("rgba.jpg")
  let plan = try TranslationPlanner.plan(input: input, output: output, format: nil)
  #expect(plan.files.first?.format == .jpeg)
  let translator = InvertingTranslator()
  let bulk = BulkTranslation(
    translation: ImageTranslation(
      translator: translator, options: .init(jpegQuality: 100)))
  #expect(bulk.run(plan, with: translator).translated == 1)

  let source = try Image(contentsOf: input)
  let result = try Image(contentsOf: output)
  #expect(result.alpha == nil)
  // The left column is fully transparent (white); the right one opaque (the inversion).
  let alpha = try #require(source.alpha)
  #expect(alpha[0] == 0 && alpha[28] == 1)
  #expect(result.sample(channel: 0, x: 0, y: 10) > 0.95)
  let opaque = 1 - source.sample(channel: 1, x: 28, y: 10)
  #expect(abs(result.sample(channel: 1, x: 28, y: 10) - opaque) < 0.06)
}

@Test func resizingOptionsSetTheWorkingSize() throws {
  let translator = InvertingTranslator()
  let square = ImageTranslation(translator: translator, options: .init(resizing: .square(side: 16)))
  let wide = ImageTranslation(
    translator: translator, options: .init(resizing: .scaleWidth(width: 20)))
  let image = try Image(contentsOf: fixturesFolder.appending("tree/odd.png"))
  let squared = try square.translate(image, with: translator)
  #expect(squared.width == 16 && squared.height == 16)
  let scaled = try wide.translate(image, with: translator)
  #expect(scaled.width == 20 && scaled.height == 12)  // 23 * 20 / 37 = 12.4
}

@Test func paddingReachesTheMultipleAndTheMinimum() {
  let translation = ImageTranslation(translator: InvertingTranslator(), options: .init())
  #expect(
    translation.modelPadding(width: 37, height: 23) == Padding(left: 1, right: 2, top: 0, bottom: 1)
  )
  #expect(
    translation.modelPadding(width: 40, height: 3) == Padding(left: 0, right: 0, top: 2, bottom: 3))
  #expect(
    translation.modelPadding(width: 1, height: 1) == Padding(left: 3, right: 4, top: 3, bottom: 4))

  // A 1×1 image still goes through (reflection repeats it up to the model's minimum).
  let dot = Image(width: 1, height: 1, colorChannels: 3, pixels: [0.25, 0.5, 1])
  let translator = InvertingTranslator()
  let result = try? translation.translate(dot, with: translator)
  #expect(result?.pixels == [0.75, 0.5, 0])
  #expect(translator.shapesSeen == [[1, 3, 8, 8]])
}

@Test func imagesBeyondTheMemoryLimitFailClearly() throws {
  let translator = InvertingTranslator(bytesPerPixel: 1000)
  // 1 MiB + 1000 bytes × 40 × 24 padded pixels is 1.9 MiB, above the 1.5 MiB limit.
  let options = TranslationOptions(memoryLimitBytes: 3 << 19)
  let translation = ImageTranslation(translator: translator, options: options)
  let image = try Image(contentsOf: fixturesFolder.appending("tree/odd.png"))
  do {
    _ = try translation.translate(image, with: translator)
    Issue.record("an image needing 1.9 MiB passed a 1.5 MiB limit")
  } catch let error as TranslationError {
    #expect(error.reason.contains("--memory-limit"), "\(error)")
    #expect(error.reason.contains("37×23"), "\(error)")
  }
  #expect(translator.shapesSeen.isEmpty)
}

@Test func oneChannelModelsReadAndWriteGrey() throws {
  let translator = InvertingTranslator(inputChannels: 1, outputChannels: 1)
  let translation = ImageTranslation(translator: translator, options: .init())
  let image = try Image(contentsOf: fixturesFolder.appending("tree/odd.png"))
  let result = try translation.translate(image, with: translator)
  #expect(result.colorChannels == 1 && result.width == 37 && result.height == 23)
  let luma = image.tensor(channels: 1).scalars.map { (1 - $0) / 2 }
  let worst = worstDifference(result.pixels, luma)
  #expect(worst.value < 1e-6, "worst \(worst.value) at \(worst.index)")
}

@Test func theQueueHoldsAtMostItsCapacity() {
  let queue = BoundedQueue<Int>(capacity: 3)
  let most = EventLog()
  let producer = Thread {
    for value in 0..<200 {
      queue.push(value)
      most.noteCount(queue.count)
    }
    queue.close()
  }
  producer.start()
  var received: [Int] = []
  while let value = queue.pop() {
    received.append(value)
    if value % 20 == 0 { usleep(1000) }
  }
  #expect(received == Array(0..<200))
  #expect(most.largestCount <= 3)
}

/// Collects events from the pipeline's threads.
final class EventLog: @unchecked Sendable {
  private let lock = NSLock()
  private var events: [TranslationEvent] = []
  private var largest = 0

  func append(_ event: TranslationEvent) {
    lock.lock()
    events.append(event)
    lock.unlock()
  }

  func noteCount(_ count: Int) {
    lock.lock()
    largest = max(largest, count)
    lock.unlock()
  }

  var count: Int {
    lock.lock()
    defer { lock.unlock() }
    return events.count
  }

  var largestCount: Int {
    lock.lock()
    defer { lock.unlock() }
    return largest
  }
}

@Test func imagesAboveThePixelLimitFailAndTheRunGoesOn() throws {
  let folder = temporaryFolder()
  let input = folder.appending("in")
  try FileManager.default.createDirectory(
    atPath: input.description, withIntermediateDirectories: true)
  for name in ["odd.png", "mixed/deep16.png"] {
    let bytes = try #require(fileBytes(fixturesFolder.appending("tree").appending(FilePath(name))))
    try writeAtomically(bytes, to: input.appending(FilePath(name).lastComponent))
  }
  let plan = try TranslationPlanner.plan(input: input, output: folder.appending("out"), format: nil)
  let translator = InvertingTranslator()
  // odd.png has 37×23 = 851 pixels, deep16.png 19×13 = 247.
  let options = TranslationOptions(decodeLimits: DecodeLimits(maxPixels: 500))
  let summary = BulkTranslation(
    translation: ImageTranslation(translator: translator, options: options)
  ).run(plan, with: translator)
  #expect(summary.translated == 1)
  #expect(summary.failures.map(\.input) == [input.appending("odd.png")])
  #expect(summary.failures.first?.reason.contains("851 pixels") == true)
  #expect(summary.failures.first?.reason.contains("--max-pixels") == true)
}

@Test func aStopWritesWhatIsTranslatedAndStartsNothingMore() throws {
  let (root, _) = try makeInputTree()
  let output = root.parent.appending("output")
  let plan = try TranslationPlanner.plan(input: root, output: output, format: .png)
  let translator = InvertingTranslator()
  let bulk = BulkTranslation(
    translation: ImageTranslation(translator: translator, options: .init(queueDepth: 1)))

  // Stop as soon as the first file is written, as Ctrl-C would.
  let stop = StopFlag()
  let summary = bulk.run(
    plan, with: translator,
    onEvent: { event in
      if case .translated = event.outcome { stop.set() }
    }, shouldStop: { stop.isSet })

  #expect(summary.translated >= 1)
  #expect(summary.notStarted > 0, "\(summary.countsLine)")
  #expect(
    summary.translated + summary.skipped + summary.failed + summary.notStarted
      == plan.problems.count + plan.files.count)
  #expect(summary.countsLine.hasSuffix(", not started \(summary.notStarted)"))

  // Every output there is complete, and no temporary file is left.
  let written = snapshot(output)
  let images = written.keys.filter { $0.pathExtension == "png" }
  #expect(images.count == summary.translated, "\(written.keys)")
  #expect(written.keys.allSatisfy { !$0.lastComponent.description.hasPrefix(".") })
  for image in images {
    #expect(throws: Never.self) { _ = try Image(contentsOf: output.appending(image)) }
  }
}

/// A flag set from one thread and read from others.
final class StopFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  var isSet: Bool { lock.withLock { value } }
  func set() { lock.withLock { value = true } }
}

/// The inverting translator taking `seconds` per image, as a large model would.
final class SlowTranslator: ImageTranslator, @unchecked Sendable {
  let inner = InvertingTranslator()
  let seconds: Double
  var inputChannels: Int { inner.inputChannels }
  var outputChannels: Int { inner.outputChannels }
  var sizeMultiple: Int { inner.sizeMultiple }
  var minimumSize: Int { inner.minimumSize }
  var memoryEstimate: MemoryEstimate { inner.memoryEstimate }

  init(seconds: Double) { self.seconds = seconds }

  func translate(_ image: Tensor) -> Tensor {
    Thread.sleep(forTimeInterval: seconds)
    return inner.translate(image)
  }
}

@Test func eachFilesTimeLeavesOutTheWaitForTheFilesBeforeIt() throws {
  // Five small images decoded at once while the model takes 0.2 s each: the fifth waits
  // 0.8 s in the queue, which is the other files' time, not its own.
  let folder = temporaryFolder()
  let bytes = try #require(fileBytes(fixturesFolder.appending("tree/odd.png")))
  try FileManager.default.createDirectory(
    atPath: folder.appending("in").description, withIntermediateDirectories: true)
  for index in 0..<5 {
    try writeAtomically(bytes, to: folder.appending("in").appending(FilePath("\(index).png")))
  }
  let plan = try TranslationPlanner.plan(
    input: folder.appending("in"), output: folder.appending("out"), format: nil)
  let translator = SlowTranslator(seconds: 0.2)
  let log = TimeLog()
  let summary = BulkTranslation(
    translation: ImageTranslation(translator: translator, options: .init(queueDepth: 8))
  ).run(plan, with: translator) { event in
    if case .translated(let seconds) = event.outcome { log.append(seconds) }
  }

  #expect(summary.translated == 5)
  let times = log.times
  #expect(times.count == 5)
  // At least the model's own 0.2 s, and far below the 0.6 s or more that the later files
  // would show with the waits counted.
  #expect(times.allSatisfy { $0 >= 0.2 }, "\(times)")
  #expect(times.allSatisfy { $0 < 0.5 }, "\(times)")
}

/// Collects per-file times from the pipeline's threads.
final class TimeLog: @unchecked Sendable {
  private let lock = NSLock()
  private var values: [Double] = []

  func append(_ value: Double) { lock.withLock { values.append(value) } }
  var times: [Double] { lock.withLock { values } }
}
