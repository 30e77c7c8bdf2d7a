//! Reading a contact CSV: a header row, then one contact per row.
//!
//! Columns: `email` (required), `name` (or `first_name` and `last_name`, joined), `tags`
//! (separated by `;` or `,`), `no_track` (`true`/`false`, `yes`/`no`, `1`/`0`; empty
//! leaves it as it is), and any other column is a custom field of that name. Every
//! row is checked before anything is stored, and every bad row is reported with its line
//! number; `Store::import_contacts` then stores all rows in one transaction or none.

use std::collections::{BTreeMap, HashMap};

use crate::store::{ImportRow, RowError};

/// The most rows one file may hold.
pub const MAX_ROWS: usize = 100_000;
/// The most row errors reported; a file that bad is probably the wrong file.
const MAX_ERRORS: usize = 100;

/// Parses a CSV file into rows, or every problem found, by line.
pub fn parse(data: &[u8]) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let header_error = |message: String| vec![RowError { line: 1, message }];
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(e) => return Err(header_error(format!("the header row is not readable: {e}"))),
    };
    let columns = Columns::from_headers(&headers).map_err(header_error)?;

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut first_line_of: HashMap<String, u64> = HashMap::new();
    let mut lines = LineCounter::new(data);
    for (index, record) in reader.records().enumerate() {
        if errors.len() >= MAX_ERRORS {
            break;
        }
        if index >= MAX_ROWS {
            errors.push(RowError {
                line: 0,
                message: format!("the file has more than {MAX_ROWS} rows; split it"),
            });
            break;
        }
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(RowError {
                    line,
                    message: format!("not readable: {e}"),
                });
                continue;
            }
        };
        let line = lines.line_at(record.position().map_or(0, |p| p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        match columns.row(line, &record) {
            Ok(row) => match first_line_of.get(&row.email) {
                Some(first) => errors.push(RowError {
                    line,
                    message: format!("{} is also on line {first}", row.email),
                }),
                None => {
                    first_line_of.insert(row.email.clone(), line);
                    rows.push(row);
                }
            },
            Err(message) => errors.push(RowError { line, message }),
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    if rows.is_empty() {
        return Err(header_error("the file has no contacts".into()));
    }
    Ok(rows)
}

/// Line numbers from byte offsets. The reader's own line count skips blank lines, which
/// would point people at the wrong line of their file.
struct LineCounter<'a> {
    data: &'a [u8],
    byte: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(data: &'a [u8]) -> LineCounter<'a> {
        LineCounter {
            data,
            byte: 0,
            line: 1,
        }
    }

    /// The line of the record starting at `byte`; offsets must come in increasing order.
    /// A record's offset may point at blank lines before it, which are skipped.
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut byte = (byte as usize).clamp(self.byte, self.data.len());
        while matches!(self.data.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        let newlines = self.data[self.byte..byte].iter().filter(|&&b| b == b'\n');
        self.line += newlines.count() as u64;
        self.byte = byte;
        self.line
    }
}

/// Where each known column is, and the custom fields.
struct Columns {
    email: usize,
    name: Option<usize>,
    first_name: Option<usize>,
    last_name: Option<usize>,
    tags: Option<usize>,
    no_track: Option<usize>,
    fields: Vec<(usize, String)>,
    width: usize,
}

impl Columns {
    fn from_headers(headers: &csv::StringRecord) -> Result<Columns, String> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut fields = Vec::new();
        for (index, header) in headers.iter().enumerate() {
            let key = header.trim().to_ascii_lowercase();
            if key.is_empty() {
                return Err(format!("column {} has no name", index + 1));
            }
            if seen.insert(key.clone(), index).is_some() {
                return Err(format!("the column {header:?} appears twice"));
            }
            if !matches!(
                key.as_str(),
                "email" | "name" | "first_name" | "last_name" | "tags" | "no_track"
            ) {
                let one = BTreeMap::from([(header.trim().to_string(), String::new())]);
                super::check_fields(&one)?;
                fields.push((index, header.trim().to_string()));
            }
        }
        let email = *seen
            .get("email")
            .ok_or("the header row has no `email` column")?;
        Ok(Columns {
            email,
            name: seen.get("name").copied(),
            first_name: seen.get("first_name").copied(),
            last_name: seen.get("last_name").copied(),
            tags: seen.get("tags").copied(),
            no_track: seen.get("no_track").copied(),
            fields,
            width: headers.len(),
        })
    }

    fn row(&self, line: u64, record: &csv::StringRecord) -> Result<ImportRow, String> {
        if record.len() != self.width {
            return Err(format!(
                "has {} columns where the header has {}",
                record.len(),
                self.width
            ));
        }
        let cell = |index: Option<usize>| index.and_then(|i| record.get(i)).unwrap_or("");

        let raw_email = cell(Some(self.email));
        if raw_email.is_empty() {
            return Err("the email is empty".into());
        }
        let email = super::normalise_email(raw_email)
            .ok_or_else(|| format!("{raw_email:?} is not an email address"))?;

        let name = match self.name {
            Some(_) => cell(self.name).to_string(),
            None => format!("{} {}", cell(self.first_name), cell(self.last_name))
                .trim()
                .to_string(),
        };
        if !super::is_display_name(&name) {
            return Err("the name must be at most 200 characters, on one line".into());
        }

        let tags = super::normalise_tags(cell(self.tags).split([';', ',']))?;
        let fields: BTreeMap<String, String> = self
            .fields
            .iter()
            .filter_map(|(index, name)| {
                let value = record.get(*index).unwrap_or("");
                (!value.is_empty()).then(|| (name.clone(), value.to_string()))
            })
            .collect();
        super::check_fields(&fields)?;
        let no_track = match cell(self.no_track).to_ascii_lowercase().as_str() {
            "" => None,
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            other => return Err(format!("no_track {other:?} is not true or false")),
        };

        Ok(ImportRow {
            line,
            email,
            name,
            fields,
            tags,
            no_track,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_known_columns_and_custom_fields() {
        let csv = "Email,First_Name,last_name,tags,company\n\
                   Ada@Example.org,Ada,Lovelace,lead; VIP,Engines\n\
                   \n\
                   bob@example.org,,,,\n";
        let rows = parse(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].email, "ada@example.org");
        assert_eq!(rows[0].name, "Ada Lovelace");
        assert_eq!(rows[0].tags, ["lead", "vip"]);
        assert_eq!(rows[0].fields["company"], "Engines");
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[1].line, 4, "{rows:?}");
        assert!(rows[1].fields.is_empty());
    }

    #[test]
    fn reads_the_tracking_choice() {
        let csv = "email,no_track
                   a@example.org,yes
                   b@example.org,
                   c@example.org,False
";
        let rows = parse(csv.as_bytes()).unwrap();
        let choices: Vec<Option<bool>> = rows.iter().map(|r| r.no_track).collect();
        assert_eq!(choices, [Some(true), None, Some(false)]);
        assert!(rows[0].fields.is_empty(), "no_track is not a custom field");
        let errors = parse(
            b"email,no_track
a@example.org,maybe
",
        )
        .unwrap_err();
        assert_eq!(errors[0].line, 2);
    }

    #[test]
    fn reports_every_bad_row_by_line() {
        let csv = "email,name\n\
                   ok@example.org,Ok\n\
                   not-an-email,Bad\n\
                   ,Empty\n\
                   OK@example.org,Again\n\
                   extra@example.org,Extra,column\n";
        let errors = parse(csv.as_bytes()).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6], "{errors:?}");
        assert!(errors[2].message.contains("line 2"), "{errors:?}");
    }

    #[test]
    fn refuses_bad_headers() {
        assert_eq!(parse(b"name\nAda\n").unwrap_err()[0].line, 1);
        assert!(parse(b"email,email\na@example.org,b\n").is_err());
        assert!(parse(b"email,bad name\na@example.org,b\n").is_err());
        assert!(parse(b"email\n").is_err());
    }
}
