pub struct LambdaService;
