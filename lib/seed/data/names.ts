/** First and last names for generated people. */
export const FIRST_NAMES: ReadonlyArray<string> = [
  "James", "Maria", "Robert", "Aisha", "Michael", "Jennifer", "David", "Priya", "William", "Linda",
  "Carlos", "Elizabeth", "Joseph", "Mei", "Thomas", "Sarah", "Daniel", "Fatima", "Matthew", "Karen",
  "Andre", "Nancy", "Anthony", "Lisa", "Mark", "Sofia", "Steven", "Keisha", "Paul", "Emily",
  "Andrew", "Ana", "Joshua", "Michelle", "Kevin", "Yuki", "Brian", "Amanda", "Luis", "Melissa",
  "Tyrone", "Rebecca", "Jason", "Laura", "Hiro", "Stephanie", "Ryan", "Nicole", "Omar", "Rachel",
  "Eric", "Grace", "Jacob", "Olivia", "Diego", "Hannah", "Wei", "Chloe", "Samuel", "Zoe",
];

export const LAST_NAMES: ReadonlyArray<string> = [
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
  "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
  "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
  "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
  "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
  "Patel", "Kim", "Chen", "O'Brien", "Okafor", "Singh", "Murphy", "Cohen", "Yamamoto", "Washington",
];
