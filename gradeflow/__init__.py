"""gradeflow: an autograder for numerical and deep-learning coursework."""
