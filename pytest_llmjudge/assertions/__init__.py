"""What a test calls: the judged assertion helpers and the three fixtures. Faces pytest;
builds requests, hands them to the judge, and turns verdicts into pass, fail or error."""
