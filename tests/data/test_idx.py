import numpy as np
import pytest

from course_lib.data.idx import parse_idx
from course_lib.errors import CourseError


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_reads_back_every_idx_type_in_native_byte_order(dtype, make_idx):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    parsed = parse_idx(make_idx(array), "x.idx")
    assert parsed.dtype == np.dtype(dtype) and parsed.dtype.isnative
    np.testing.assert_array_equal(parsed, array)


def test_one_dimensional_labels(make_idx):
    np.testing.assert_array_equal(parse_idx(make_idx(np.array([3, 1, 4], np.uint8)), "l"),
                                  [3, 1, 4])


def test_result_is_writable(make_idx):
    parsed = parse_idx(make_idx(np.zeros((2, 2), np.uint8)), "x.idx")
    parsed[0, 0] = 1
    assert parsed[0, 0] == 1


def test_wrong_magic_number(make_idx):
    content = b"\x1f\x8b" + make_idx(np.zeros(3, np.uint8))[2:]
    with pytest.raises(CourseError, match=r"x\.idx: not an IDX file \(magic number 0x1f8b0801"):
        parse_idx(content, "x.idx")


def test_unknown_type_code(make_idx):
    content = bytearray(make_idx(np.zeros(3, np.uint8)))
    content[2] = 0x0A
    with pytest.raises(CourseError, match="magic number 0x00000a01"):
        parse_idx(bytes(content), "x.idx")


def test_shorter_than_a_header(make_idx):
    with pytest.raises(CourseError, match="x.idx: 2 bytes is too short for an IDX header"):
        parse_idx(b"\x00\x00", "x.idx")


def test_truncated_inside_the_header(make_idx):
    content = make_idx(np.zeros((60, 28, 28), np.uint8))[:10]
    with pytest.raises(CourseError, match="3 dimensions but the file ends after 10 bytes"):
        parse_idx(content, "x.idx")


def test_one_entry_short(make_idx):
    content = make_idx(np.zeros((5, 28, 28), np.uint8))[:-28 * 28]
    with pytest.raises(CourseError) as raised:
        parse_idx(content, "train-images")
    assert str(raised.value) == ("train-images: the IDX header says 5 entries "
                                 "(28 × 28 uint8 each) but the file holds 4")


def test_part_of_an_entry_missing(make_idx):
    content = make_idx(np.zeros(5, np.int32))[:-1]
    with pytest.raises(CourseError, match=r"says 5 entries \(int32 each\) but the file holds 4 "
                                          r"and 3 bytes more"):
        parse_idx(content, "labels")


def test_trailing_bytes_are_an_error_too(make_idx):
    with pytest.raises(CourseError, match="says 3 entries .* holds 4"):
        parse_idx(make_idx(np.zeros(3, np.uint8)) + b"\x00", "labels")
