import hashlib
import re

import numpy as np
import pytest

from course_lib.data import imdb, load_imdb, sources
from course_lib.errors import CourseError

pytestmark = pytest.mark.usefixtures("isolated")

EXTRAS = {  # what the published archive holds besides the labelled reviews
    "train/unsup/0_0.txt": "Unlabelled.",
    "train/labeledBow.feat": "0:1 1:2",
    "train/unsupBow.feat": "0:1",
    "test/labeledBow.feat": "3:1",
    "train/urls_pos.txt": "http://www.imdb.com/title/tt0000001/usercomments",
    "README": "Large Movie Review Dataset v1.0",
}


def assert_loaded(loaded, expected):
    texts, labels = loaded
    assert texts == expected[0]
    assert labels.dtype == np.int64
    assert labels.tolist() == expected[1]


@pytest.mark.parametrize("split", ["train", "test"])
def test_archive_without_unsup_or_feat(fake_imdb, split):
    fake_imdb.add_archive()
    assert_loaded(load_imdb(split, root=fake_imdb.data_dir), fake_imdb.expected(split))


def test_order_is_by_path_and_text_is_utf8(fake_imdb):
    fake_imdb.add_archive()
    texts, labels = load_imdb("train", root=fake_imdb.data_dir)
    assert texts[0] == "A café scene, naïvely shot — dull."  # neg/0_3.txt
    assert labels.tolist() == [0, 0, 1, 1]


def test_canonical_archive_with_unsup_and_feat(fake_imdb):
    fake_imdb.add_archive("aclImdb_v1.tar.gz", fake_imdb.archive_bytes(extras=EXTRAS), "md5")
    assert_loaded(load_imdb("train", root=fake_imdb.data_dir), fake_imdb.expected("train"))


@pytest.mark.parametrize("split", ["train", "test"])
def test_unpacked_directory(fake_imdb, split):
    fake_imdb.unpack()
    assert_loaded(load_imdb(split, root=fake_imdb.data_dir), fake_imdb.expected(split))


def test_found_through_course_data_dir(fake_imdb, monkeypatch):
    fake_imdb.add_archive()
    monkeypatch.setenv("COURSE_DATA_DIR", str(fake_imdb.data_dir))
    assert len(load_imdb("test")[0]) == 4


def test_unknown_split():
    with pytest.raises(ValueError, match="IMDB has no split 'unsup'; the splits are train, test"):
        load_imdb("unsup")


def test_archive_checksum_mismatch(fake_imdb):
    path = fake_imdb.add_archive()
    good = path.read_bytes()
    path.write_bytes(good[:-100])
    with pytest.raises(CourseError, match=re.escape(
            f"{path}: not the published aclImdb_v1_labeled.tar.gz: sha256 is "
            f"{hashlib.sha256(good[:-100]).hexdigest()}, "
            f"expected {hashlib.sha256(good).hexdigest()}")):
        load_imdb("train", root=fake_imdb.data_dir)


def test_archive_with_an_unknown_name_is_not_used(fake_imdb):
    fake_imdb.folder.mkdir(parents=True)
    (fake_imdb.folder / "imdb.tar.gz").write_bytes(fake_imdb.archive_bytes())
    with pytest.raises(CourseError, match="The IMDB reviews not found"):
        load_imdb("train", root=fake_imdb.data_dir, download=False)


def test_incomplete_unpacked_copy(fake_imdb):
    fake_imdb.unpack()
    (fake_imdb.folder / "aclImdb" / "test" / "pos" / "1_7.txt").unlink()
    with pytest.raises(CourseError, match=re.escape(
            f"{fake_imdb.folder / 'aclImdb'}: test/pos holds 1 reviews, expected 2")):
        load_imdb("test", root=fake_imdb.data_dir)


def test_unpacked_copy_without_the_split(fake_imdb):
    fake_imdb.unpack({path: text for path, text in fake_imdb.reviews.items()
                      if path.startswith("train/")})
    with pytest.raises(CourseError, match="test/neg holds 0 reviews, expected 2"):
        load_imdb("test", root=fake_imdb.data_dir)


def test_text_that_is_not_utf8(fake_imdb):
    fake_imdb.unpack()
    (fake_imdb.folder / "aclImdb" / "train" / "pos" / "2_10.txt").write_bytes(b"caf\xe9")
    with pytest.raises(CourseError, match="train/pos/2_10.txt is not UTF-8 text"):
        load_imdb("train", root=fake_imdb.data_dir)


def test_prefers_an_archive_to_an_unpacked_copy(fake_imdb):
    fake_imdb.unpack()
    path = fake_imdb.add_archive()
    assert imdb.find(fake_imdb.data_dir).paths == (path,)


def test_downloads_the_canonical_archive_when_missing(fake_imdb, tmp_path, cache_dir):
    fake_imdb.add_archive("aclImdb_v1.tar.gz", fake_imdb.archive_bytes(extras=EXTRAS), "md5",
                          publish_in=tmp_path / "remote")
    assert_loaded(load_imdb("test"), fake_imdb.expected("test"))
    assert [path.name for path in (cache_dir / "imdb").iterdir()] == ["aclImdb_v1.tar.gz"]


def test_check_says_where_and_how_it_was_verified(fake_imdb):
    path = fake_imdb.add_archive()
    assert imdb.check("train", fake_imdb.data_dir) == (
        f"4 reviews, sha256 verified, in the root= argument {path}")


def test_check_says_an_unpacked_copy_has_no_checksum(fake_imdb):
    fake_imdb.unpack()
    assert "an unpacked copy, which has no checksum" in imdb.check("test", fake_imdb.data_dir)


@pytest.mark.parametrize("split", ["train", "test"])
def test_real_imdb(real_data_dir, split):
    texts, labels = load_imdb(split, root=real_data_dir)
    assert len(texts) == 25000 and all(isinstance(text, str) for text in texts)
    assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [12500, 12500]


def test_real_imdb_checksum(real_data_dir):
    path = real_data_dir / "imdb" / "aclImdb_v1_labeled.tar.gz"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sources.IMDB.file(path.name).digest


URLS = {  # line k names the film of review k_<rating>.txt
    "train/urls_neg.txt": "http://www.imdb.com/title/tt0000010/usercomments\n"
                          "http://www.imdb.com/title/tt0000011/usercomments\n",
    "train/urls_pos.txt": "http://www.imdb.com/title/tt0000020/usercomments\n"
                          "http://www.imdb.com/title/tt0000020/usercomments\n"
                          "http://www.imdb.com/title/tt0000022/usercomments\n"
                          "http://www.imdb.com/title/tt0000023/usercomments\n",
}
# load_imdb's order is neg/0_3, neg/1_2, pos/2_10, pos/3_9
TRAIN_MOVIES = ["tt0000010", "tt0000011", "tt0000022", "tt0000023"]


def test_movies_follow_the_reviews_order_from_the_archive(fake_imdb):
    fake_imdb.add_archive(content=fake_imdb.archive_bytes(extras=URLS))
    assert imdb.load_imdb_movies("train", root=fake_imdb.data_dir).tolist() == TRAIN_MOVIES


def test_movies_from_an_unpacked_copy(fake_imdb):
    fake_imdb.unpack({**fake_imdb.reviews, **URLS})
    assert imdb.load_imdb_movies("train", root=fake_imdb.data_dir).tolist() == TRAIN_MOVIES


def test_movies_without_a_urls_file_say_which_is_missing(fake_imdb):
    fake_imdb.add_archive(content=fake_imdb.archive_bytes(extras={"train/urls_neg.txt": URLS["train/urls_neg.txt"]}))
    with pytest.raises(CourseError, match="no train/urls_pos.txt"):
        imdb.load_imdb_movies("train", root=fake_imdb.data_dir)


def test_movies_with_a_short_urls_file_name_the_review(fake_imdb):
    fake_imdb.add_archive(content=fake_imdb.archive_bytes(extras={**URLS, "train/urls_pos.txt": URLS["train/urls_neg.txt"]}))
    with pytest.raises(CourseError, match=r"urls_pos.txt has 2 lines, none for review pos/2_10.txt"):
        imdb.load_imdb_movies("train", root=fake_imdb.data_dir)


def test_movies_of_the_real_data_are_title_ids_aligned_with_the_reviews(real_data_dir):
    movies = imdb.load_imdb_movies("train", root=real_data_dir)
    assert len(movies) == 25_000
    assert all(re.fullmatch(r"tt\d+", movie) for movie in movies[:: 997])
    assert 3_000 < len(set(movies)) < 25_000
