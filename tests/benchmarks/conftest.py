import pytest
import torch


@pytest.fixture(autouse=True)
def torch_threads_restored():
    # a benchmark's main() sets torch's thread count for the whole process
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
