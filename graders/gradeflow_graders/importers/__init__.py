"""Bringing a course's existing material into an ordinary gradeflow assignment folder.

`otter` converts otter-grader material (a folder with tests/, an autograder zip, an `otter assign` master notebook);
`nbgrader` converts an nbgrader source assignment. Both return an ImportReport saying what was converted, what was
not and why. Nothing here runs the material: test files are read with `ast`, notebooks as JSON.
"""
