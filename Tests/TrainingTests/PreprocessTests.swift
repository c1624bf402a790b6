/// The loader's preprocessing against the reference's `get_transform` computed with Pillow
/// (scripts/make_training_fixtures.py).
import Foundation
import ImageIO
import Tensors
import Testing

@testable import Training

struct PreprocessCase: Decodable, CustomTestStringConvertible {
  var name: String
  var preprocess: String
  var loadSize: Int
  var cropSize: Int
  var x: Int
  var y: Int
  var flip: Bool
  var channels: Int
  var shape: [Int]
  var testDescription: String { name }
}

let preprocessCases: [PreprocessCase] = {
  let url = TestPaths.fixtures.appendingPathComponent("preprocess.json")
  guard let data = try? Data(contentsOf: url),
    let cases = try? JSONDecoder().decode([PreprocessCase].self, from: data)
  else { return [] }
  return cases
}()

@Suite struct PreprocessTests {
  @Test func fixturesArePresent() {
    #expect(preprocessCases.count == 5)
  }

  @Test(arguments: preprocessCases)
  func matchesTheReferenceTransform(_ testCase: PreprocessCase) throws {
    var image = try Image(
      contentsOf: TestPaths.shared.appendingPathComponent("photos/chelsea.png"))
    if testCase.preprocess == "none" {
      image = image.cropped(x: 100, y: 50, width: 45, height: 30)
    }
    var options = TrainingOptions(folderA: "a", folderB: "b", name: "test")
    options.preprocess = try #require(TrainingOptions.Preprocess(rawValue: testCase.preprocess))
    options.loadSize = testCase.loadSize
    options.cropSize = testCase.cropSize

    // The room the crop has, to turn the fixture's offsets into the loader's fractions.
    let (width, height): (Int, Int) = {
      switch options.preprocess {
      case .resizeAndCrop: return (testCase.loadSize, testCase.loadSize)
      case .scaleWidthAndCrop:
        return (
          testCase.loadSize,
          max(testCase.loadSize * image.height / image.width, testCase.cropSize)
        )
      default: return (image.width, image.height)
      }
    }()
    let roomX = width - testCase.cropSize
    let roomY = height - testCase.cropSize
    let augmentation = Augmentation(
      cropX: options.preprocess.crops ? (Double(testCase.x) + 0.5) / Double(roomX + 1) : 0,
      cropY: options.preprocess.crops ? (Double(testCase.y) + 0.5) / Double(roomY + 1) : 0,
      flip: testCase.flip)

    let dataset = UnalignedDataset(
      options: options, images: ([FilePath("a")], [FilePath("b")]))
    let prepared = try dataset.prepare(image, augmentation: augmentation)
    let tensor = prepared.tensor(channels: testCase.channels)
    let expected = try #require(try loadFixture("preprocess.safetensors").tensors[testCase.name])
    #expect(tensor.shape == expected.shape)
    expectClose(tensor.scalars, expected.scalars, rtol: 1e-4, atol: 2e-4, testCase.name)
  }

  @Test func cropOffsetsCoverTheWholeRoom() {
    #expect(Augmentation.offset(fraction: 0, room: 10) == 0)
    #expect(Augmentation.offset(fraction: 0.999_999, room: 10) == 10)
    #expect(Augmentation.offset(fraction: 0.5, room: 0) == 0)
  }

  @Test func roundsSidesToMultiplesOfFourAsPython() {
    #expect(nearestMultipleOfFour(30) == 32)  // 7.5 rounds to 8 (even)
    #expect(nearestMultipleOfFour(45) == 44)
    #expect(nearestMultipleOfFour(42) == 40)  // 10.5 rounds to 10 (even)
    #expect(nearestMultipleOfFour(1) == 4)
  }
}
