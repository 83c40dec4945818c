//! The forms an answer or a download comes in, as its `format` parameter names them.

crate::domain::words::word_set!(
    /// JSON (the default) or CSV: the form of a report, an export or the 360Giving file.
    DataFormat, "format", { Json => "json", Csv => "csv" }
);

crate::domain::words::word_set!(
    /// CSV (the default) or an XLSX workbook: the form of the monitoring return.
    SheetFormat, "format", { Csv => "csv", Xlsx => "xlsx" }
);

crate::domain::words::word_set!(
    /// JSON (the default), CSV or an XLSX workbook: the form of the funder's overview.
    ReportFormat, "format", { Json => "json", Csv => "csv", Xlsx => "xlsx" }
);

impl DataFormat {
    /// `format` as given: absent is JSON; a word outside the set is refused, naming it.
    pub fn given(text: Option<&str>) -> Result<DataFormat, String> {
        text.map_or(Ok(DataFormat::Json), |t| {
            DataFormat::parse(t).ok_or(format!("must be {}", DataFormat::WORDS.join(" or ")))
        })
    }
}

impl SheetFormat {
    /// `format` as given: absent is CSV; a word outside the set is refused, naming it.
    pub fn given(text: Option<&str>) -> Result<SheetFormat, String> {
        text.map_or(Ok(SheetFormat::Csv), |t| {
            SheetFormat::parse(t).ok_or(format!("must be {}", SheetFormat::WORDS.join(" or ")))
        })
    }
}

impl ReportFormat {
    /// `format` as given: absent is JSON; a word outside the set is refused, naming it.
    pub fn given(text: Option<&str>) -> Result<ReportFormat, String> {
        text.map_or(Ok(ReportFormat::Json), |t| {
            ReportFormat::parse(t).ok_or(format!("must be {}", ReportFormat::WORDS.join(", ")))
        })
    }
}
