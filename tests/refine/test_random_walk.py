import torch

from wsss.ops.pairs import half_disc_directions, pair_affinities, pair_indices
from wsss.refine.random_walk import dense_transition, propagate, sparse_transition_transposed


def test_half_disc_has_34_directions_for_radius_5():
    directions = half_disc_directions(5)
    assert len(directions) == 34
    assert len(set(directions)) == 34
    assert all((-dy, -dx) not in directions for dy, dx in directions)  # each unordered pair once


def test_pair_counts_for_a_56_grid():
    src, dst = pair_indices(5, 56, 56)
    assert src.shape == dst.shape == (34, 52 * 48)  # 84,864 pairs per image


def _random_affinity(h, w, seed=0):
    torch.manual_seed(seed)
    features = torch.randn(1, 8, h, w)
    return pair_affinities(features, 5)[0]


def test_dense_transition_is_column_stochastic():
    t = dense_transition(_random_affinity(9, 11), 5, 9, 11, beta=8)
    torch.testing.assert_close(t.sum(0), torch.ones(99, dtype=torch.float64))
    assert (t >= 0).all()


def test_sparse_walk_equals_dense_matrix_power():
    h, w, beta, logt = 12, 10, 8.0, 4
    affinity = _random_affinity(h, w, seed=3)
    dense = dense_transition(affinity, 5, h, w, beta)
    power = torch.linalg.matrix_power(dense, 2**logt)
    scores = torch.rand(4, h * w, dtype=torch.float64)
    expected = scores @ power
    transposed = sparse_transition_transposed(affinity, 5, h, w, beta)
    got = propagate(transposed, scores.float().t().contiguous(), 2**logt).t().double()
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6 * expected.abs().max().item())
    # Reference squaring scheme gives the same matrix.
    squared = dense.clone()
    for _ in range(logt):
        squared = squared @ squared
    torch.testing.assert_close(squared, power)


def test_block_diagonal_batch_matches_single_images():
    a1, a2 = _random_affinity(8, 9, 1), _random_affinity(8, 9, 2)
    n = 72
    single = [sparse_transition_transposed(a, 5, 8, 9, 8.0) for a in (a1, a2)]
    batch = (sparse_transition_transposed(a1, 5, 8, 9, 8.0, 0, 2 * n)
             + sparse_transition_transposed(a2, 5, 8, 9, 8.0, n, 2 * n)).coalesce()
    scores = torch.rand(2 * n, 3)
    together = propagate(batch, scores, 5)
    torch.testing.assert_close(together[:n], propagate(single[0], scores[:n], 5))
    torch.testing.assert_close(together[n:], propagate(single[1], scores[n:], 5))
