//! Lane layout for drawing the revision graph: rows in display order (newest first) in, one line of
//! box-drawing cells per row out. Pure layout math with no terminal types, so the TUI can
//! virtualise the list (row `i` is screen line `i`) and colour each cell by the line it belongs to.
//!
//! The layout walks the rows top to bottom keeping one slot per column: the row each open lane is
//! heading for. A row's node sits in the leftmost lane heading for it (or the leftmost free column
//! for a head); other lanes heading for it join it from the right (`●─╯`); its first parent
//! continues in its lane and every further parent continues in a lane that already heads there
//! (`●─┤`) or in a free column (`●─╮`). Columns are reused as soon as they are freed, except on
//! the row that frees them, where a lane ending and another starting in the same cell would read as
//! one line running through.
//!
//! Where a horizontal passes a lane it is not connected to, the vertical wins (`●─│─╮`), so every
//! box glyph touching a horizontal is a junction with that row's node and `┼` only ever means one.

/// One row of the input: the indices, into the same slice, of this row's parents.
///
/// Parents are expected below the row (larger indices). An index past the end of the slice is a
/// parent outside the displayed range: it is dropped and the row marked
/// [`RowLayout::continues_below`]. An index at or above the row itself cannot be drawn downwards
/// and is ignored, as are repeated parents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowInput {
    pub parents: Vec<usize>,
}

/// Identifies one drawn line (a lane from the row that opened it to the row it ends at), so the
/// caller can give each line its own colour. Ids are handed out top to bottom from zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineId(pub usize);

/// Which neighbours a cell's glyph connects to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Links {
    pub up: bool,
    pub down: bool,
    pub left: bool,
    pub right: bool,
}

impl Links {
    /// The box-drawing glyph joining these neighbours (a space for none).
    pub fn glyph(self) -> char {
        match (self.up, self.down, self.left, self.right) {
            (false, false, false, false) => ' ',
            (_, _, false, false) => '│',
            (false, false, _, _) => '─',
            (false, true, false, true) => '╭',
            (false, true, true, false) => '╮',
            (true, false, false, true) => '╰',
            (true, false, true, false) => '╯',
            (true, true, false, true) => '├',
            (true, true, true, false) => '┤',
            (false, true, true, true) => '┬',
            (true, false, true, true) => '┴',
            (true, true, true, true) => '┼',
        }
    }
}

/// One column of one row: a glyph followed by a spacer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cell {
    /// The row's own node sits here.
    pub node: bool,
    /// What the glyph connects to. A horizontal merely passing behind a vertical is not a link.
    pub links: Links,
    /// The line the glyph belongs to; `None` for an empty cell.
    pub line: Option<LineId>,
    /// The line whose horizontal runs through the spacer to the right of this cell; `None` when
    /// the spacer is blank.
    pub gap: Option<LineId>,
}

impl Cell {
    /// The glyph for this cell, with `node_glyph` standing for the row's node.
    pub fn glyph(&self, node_glyph: char) -> char {
        if self.node {
            node_glyph
        } else {
            self.links.glyph()
        }
    }

    /// The spacer drawn to the right of the glyph.
    pub fn gap_glyph(&self) -> char {
        if self.gap.is_some() {
            '─'
        } else {
            ' '
        }
    }

    fn is_empty(&self) -> bool {
        !self.node && self.links == Links::default()
    }
}

/// The drawing of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowLayout {
    /// Column of this row's node.
    pub lane: usize,
    /// One cell per column, `Layout::width` of them, so text after the graph lines up.
    pub cells: Vec<Cell>,
    /// Some parent lies outside the rows given, so history goes on below this row undrawn.
    pub continues_below: bool,
}

impl RowLayout {
    /// The row as text: two characters per column (glyph, then spacer or horizontal).
    pub fn render(&self, node_glyph: char) -> String {
        self.cells
            .iter()
            .flat_map(|cell| [cell.glyph(node_glyph), cell.gap_glyph()])
            .collect()
    }
}

/// The drawing of all rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    pub rows: Vec<RowLayout>,
    /// Number of columns: the most lanes open at once.
    pub width: usize,
}

/// A lane open below the current row.
#[derive(Debug, Clone, Copy)]
struct Lane {
    /// The row this lane is heading for.
    target: usize,
    line: LineId,
}

/// Lays out `rows` (display order, newest first), one drawn line per row. O(rows × lanes).
pub fn layout(rows: &[RowInput]) -> Layout {
    let mut lanes: Vec<Option<Lane>> = Vec::new();
    let mut next_line = 0;
    let mut new_line = || {
        let id = LineId(next_line);
        next_line += 1;
        id
    };
    let mut out = Vec::with_capacity(rows.len());
    let mut width = 0;
    let mut parents = Vec::new();
    // Columns other than the node's that the node links to on this row, with their line.
    let mut links: Vec<(usize, LineId)> = Vec::new();

    for (row, input) in rows.iter().enumerate() {
        parents.clear();
        let mut continues_below = false;
        for &p in &input.parents {
            if p >= rows.len() {
                continues_below = true;
            } else if p > row && !parents.contains(&p) {
                parents.push(p);
            }
        }

        // Lanes arriving from above: the leftmost heading here carries the node, the others join it.
        let mut cells = vec![Cell::default(); lanes.len()];
        let mut node = None;
        links.clear();
        for (col, slot) in lanes.iter_mut().enumerate() {
            let Some(lane) = *slot else { continue };
            let cell = &mut cells[col];
            cell.line = Some(lane.line);
            cell.links.up = true;
            if lane.target != row {
                cell.links.down = true;
            } else if node.is_none() {
                node = Some((col, lane.line));
            } else {
                links.push((col, lane.line));
                *slot = None;
            }
        }
        let (node_col, node_line) = node.unwrap_or_else(|| {
            let col = lanes
                .iter()
                .position(Option::is_none)
                .unwrap_or(lanes.len());
            (col, new_line())
        });
        grow(&mut lanes, &mut cells, node_col);
        cells[node_col].node = true;
        cells[node_col].line = Some(node_line);

        // The first parent continues in the node's own lane.
        lanes[node_col] = parents.first().map(|&target| Lane {
            target,
            line: node_line,
        });
        cells[node_col].links.down = lanes[node_col].is_some();

        // Further parents: join a lane already heading there, or open one in a free column.
        for &target in parents.iter().skip(1) {
            let existing = nearest(node_col, lanes.len(), |col| {
                col != node_col && lanes[col].is_some_and(|l| l.target == target)
            });
            if let Some(col) = existing {
                if let Some(lane) = lanes[col] {
                    links.push((col, lane.line));
                }
                continue;
            }
            // A column freed on this very row stays empty: its cell already links up.
            let col = nearest(node_col, lanes.len(), |col| {
                lanes[col].is_none() && cells[col].is_empty()
            })
            .unwrap_or(lanes.len());
            grow(&mut lanes, &mut cells, col);
            let line = new_line();
            lanes[col] = Some(Lane { target, line });
            cells[col].line = Some(line);
            cells[col].links.down = true;
            links.push((col, line));
        }

        draw_horizontals(&mut cells, node_col, &links);

        while lanes.last().is_some_and(Option::is_none) {
            lanes.pop();
        }
        width = width.max(cells.len());
        out.push(RowLayout {
            lane: node_col,
            cells,
            continues_below,
        });
    }

    for row in &mut out {
        row.cells.resize(width, Cell::default());
    }
    Layout { rows: out, width }
}

/// Makes `col` a valid column of both the lanes and the row's cells.
fn grow(lanes: &mut Vec<Option<Lane>>, cells: &mut Vec<Cell>, col: usize) {
    if col >= lanes.len() {
        lanes.resize(col + 1, None);
    }
    if col >= cells.len() {
        cells.resize(col + 1, Cell::default());
    }
}

/// The column in `0..len` closest to `from` that satisfies `ok`, preferring the right on a tie so
/// merges open towards the right as in `git log --graph`.
fn nearest(from: usize, len: usize, ok: impl Fn(usize) -> bool) -> Option<usize> {
    let reach = from.max(len.saturating_sub(from));
    (1..=reach).find_map(|d| {
        let right = from + d;
        if right < len && ok(right) {
            return Some(right);
        }
        let left = from.checked_sub(d)?;
        ok(left).then_some(left)
    })
}

/// Draws the horizontals from the node to every linked column. Each side of the node is one run
/// coloured as the line it reaches furthest; cells along it that are linked become junctions,
/// empty ones become `─`, and lanes merely passing stay `│` with the run going behind them.
fn draw_horizontals(cells: &mut [Cell], node_col: usize, links: &[(usize, LineId)]) {
    let far_right = links
        .iter()
        .filter(|(c, _)| *c > node_col)
        .max_by_key(|(c, _)| *c);
    if let Some(&(end, line)) = far_right {
        for cell in &mut cells[node_col..end] {
            cell.gap = Some(line);
        }
        draw_run(cells, node_col, end, line, links);
    }
    let far_left = links
        .iter()
        .filter(|(c, _)| *c < node_col)
        .min_by_key(|(c, _)| *c);
    if let Some(&(end, line)) = far_left {
        for cell in &mut cells[end..node_col] {
            cell.gap = Some(line);
        }
        draw_run(cells, node_col, end, line, links);
    }
}

/// Links the cells of one run from the node at `from` to the far end `to` (either side).
fn draw_run(cells: &mut [Cell], from: usize, to: usize, line: LineId, links: &[(usize, LineId)]) {
    let rightwards = to > from;
    let (lo, hi) = if rightwards { (from, to) } else { (to, from) };
    for (col, cell) in (lo..=hi).zip(&mut cells[lo..=hi]) {
        let linked = col == from || links.iter().any(|(c, _)| *c == col);
        if !linked && !cell.is_empty() {
            continue; // a lane passing by: the vertical wins
        }
        if cell.line.is_none() {
            cell.line = Some(line);
        }
        // Towards the node on the far end's side, away from it for everything nearer.
        let towards_node = col != from;
        let away_from_node = col != to;
        if rightwards {
            cell.links.left |= towards_node;
            cell.links.right |= away_from_node;
        } else {
            cell.links.right |= towards_node;
            cell.links.left |= away_from_node;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lays out rows named `A`, `B`, … and renders each as its graph followed by its name, so
    /// the expected text shows padding exactly.
    fn draw(parents: &[&[usize]]) -> String {
        let rows: Vec<RowInput> = parents
            .iter()
            .map(|p| RowInput {
                parents: p.to_vec(),
            })
            .collect();
        let layout = layout(&rows);
        let mut text = String::new();
        for (i, row) in layout.rows.iter().enumerate() {
            assert_eq!(row.cells.len(), layout.width);
            text.push_str(&row.render('●'));
            text.push(char::from(b'A' + i as u8));
            text.push('\n');
        }
        text
    }

    /// Compares with a literal written from the line after its opening quote.
    fn check(parents: &[&[usize]], expected: &str) {
        assert_eq!(draw(parents), expected.trim_start_matches('\n'));
    }

    #[test]
    fn linear_chain() {
        check(
            &[&[1], &[2], &[3], &[]],
            "
● A
● B
● C
● D
",
        );
    }

    #[test]
    fn fork_into_two_heads() {
        check(
            &[&[2], &[2], &[]],
            "
●   A
│ ● B
●─╯ C
",
        );
    }

    #[test]
    fn diamond() {
        check(
            &[&[1, 2], &[3], &[3], &[]],
            "
●─╮ A
● │ B
│ ● C
●─╯ D
",
        );
    }

    #[test]
    fn three_parent_merge() {
        check(
            &[&[1, 2, 3], &[4], &[4], &[4], &[]],
            "
●─┬─╮ A
● │ │ B
│ ● │ C
│ │ ● D
●─┴─╯ E
",
        );
    }

    #[test]
    fn two_independent_bases() {
        check(
            &[&[2], &[3], &[], &[]],
            "
●   A
│ ● B
● │ C
  ● D
",
        );
    }

    #[test]
    fn branch_joins_after_interleaved_rows() {
        check(
            &[&[4], &[2], &[3], &[4], &[]],
            "
●   A
│ ● B
│ ● C
│ ● D
●─╯ E
",
        );
    }

    #[test]
    fn merge_joins_a_lane_already_heading_to_the_parent() {
        check(
            &[&[2], &[4], &[3, 4], &[4], &[]],
            "
●   A
│ ● B
●─┤ C
● │ D
●─╯ E
",
        );
        check(
            &[&[3], &[2, 3], &[3], &[]],
            "
●   A
├─● B
│ ● C
●─╯ D
",
        );
    }

    #[test]
    fn horizontal_passes_behind_an_unrelated_lane() {
        check(
            &[&[2], &[4], &[4, 3], &[4], &[]],
            "
●     A
│ ●   B
●─│─╮ C
│ │ ● D
●─┴─╯ E
",
        );
        check(
            &[&[3], &[4], &[3], &[4], &[]],
            "
●     A
│ ●   B
│ │ ● C
●─│─╯ D
●─╯   E
",
        );
    }

    #[test]
    fn merge_opens_to_the_left_when_only_that_column_is_free() {
        check(
            &[&[2], &[3], &[], &[4, 5], &[5], &[]],
            "
●   A
│ ● B
● │ C
╭─● D
│ ● E
●─╯ F
",
        );
    }

    #[test]
    fn column_freed_on_a_row_is_not_reopened_on_that_row() {
        check(
            &[&[2], &[2], &[3, 4], &[4], &[]],
            "
●     A
│ ●   B
●─┴─╮ C
●   │ D
●───╯ E
",
        );
    }

    #[test]
    fn parents_outside_the_rows_are_dropped() {
        let rows = [
            RowInput {
                parents: vec![1, 99],
            },
            RowInput {
                parents: vec![0, 1, 7],
            },
        ];
        let layout = layout(&rows);
        let text: Vec<String> = layout.rows.iter().map(|r| r.render('●')).collect();
        assert_eq!(text, ["● ", "● "]);
        assert!(layout.rows[0].continues_below);
        assert!(layout.rows[1].continues_below);
        assert_eq!(layout.width, 1);
    }

    #[test]
    fn cells_carry_the_line_they_belong_to() {
        let rows: Vec<RowInput> = [&[1, 2, 3][..], &[4], &[4], &[4], &[]]
            .iter()
            .map(|p| RowInput {
                parents: p.to_vec(),
            })
            .collect();
        let layout = layout(&rows);
        let line = |row: usize, col: usize| layout.rows[row].cells[col].line.map(|l| l.0);
        let gap = |row: usize, col: usize| layout.rows[row].cells[col].gap.map(|l| l.0);
        // The merge opens lines 1 and 2; its horizontal belongs to the furthest one.
        assert_eq!(
            [line(0, 0), line(0, 1), line(0, 2)],
            [Some(0), Some(1), Some(2)]
        );
        assert_eq!([gap(0, 0), gap(0, 1), gap(0, 2)], [Some(2), Some(2), None]);
        // Each keeps its line down to the base, where the first line carries on.
        assert_eq!(
            [line(2, 0), line(2, 1), line(2, 2)],
            [Some(0), Some(1), Some(2)]
        );
        assert_eq!(
            [line(4, 0), line(4, 1), line(4, 2)],
            [Some(0), Some(1), Some(2)]
        );
        let base = &layout.rows[4].cells;
        assert!(base[0].node && base[0].links.up && !base[0].links.down && base[0].links.right);
        assert_eq!(
            base[2].links,
            Links {
                up: true,
                left: true,
                ..Links::default()
            }
        );
    }

    #[test]
    fn ten_thousand_row_chain() {
        let rows: Vec<RowInput> = (0..10_000)
            .map(|i| RowInput {
                parents: if i + 1 < 10_000 { vec![i + 1] } else { vec![] },
            })
            .collect();
        let layout = layout(&rows);
        assert_eq!(layout.width, 1);
        assert_eq!(layout.rows.len(), 10_000);
        assert!(layout
            .rows
            .iter()
            .all(|r| r.lane == 0 && r.render('●') == "● "));
    }

    #[test]
    fn ten_thousand_rows_of_diamonds_reuse_their_columns() {
        // Diamonds in a chain: merge, its two sides, the fork they share, whose parent is the
        // next merge.
        let n = 10_000;
        let rows: Vec<RowInput> = (0..n)
            .map(|i| RowInput {
                parents: match i % 4 {
                    _ if i + 4 >= n => vec![],
                    0 => vec![i + 1, i + 2],
                    1 => vec![i + 2],
                    _ => vec![i + 1],
                },
            })
            .collect();
        let layout = layout(&rows);
        assert_eq!(layout.width, 2);
        let text: Vec<String> = layout.rows[..5].iter().map(|r| r.render('●')).collect();
        assert_eq!(text, ["●─╮ ", "● │ ", "│ ● ", "●─╯ ", "●─╮ "]);
    }

    #[test]
    fn fork_that_is_also_a_merge_opens_its_lane_beside_the_joining_one() {
        // D merges B and C and is also the fork both sides of the next diamond start from. Its
        // new lane cannot take C's column, where `┤` would read as C's line running on down.
        check(
            &[
                &[1, 2],
                &[3],
                &[3],
                &[4, 5],
                &[6],
                &[6],
                &[7, 8],
                &[9],
                &[9],
                &[],
            ],
            "
●─╮   A
● │   B
│ ●   C
●─┴─╮ D
●   │ E
│   ● F
●─┬─╯ G
● │   H
│ ●   I
●─╯   J
",
        );
    }
}
